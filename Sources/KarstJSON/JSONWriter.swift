/// Writes JSON straight into a byte array: no intermediate tree on the reply path.
///
/// Objects are written member by member: `w.beginObject(); w.key("a"); w.number(1); w.endObject()`;
/// commas are placed automatically.
public struct JSONWriter: Sendable {
    public private(set) var bytes: [UInt8]
    private var needsComma = false

    public init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    private mutating func separate() {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
        needsComma = true
    }

    public mutating func beginObject() { separate(); bytes.append(UInt8(ascii: "{")); needsComma = false }
    public mutating func endObject() { bytes.append(UInt8(ascii: "}")); needsComma = true }
    public mutating func beginArray() { separate(); bytes.append(UInt8(ascii: "[")); needsComma = false }
    public mutating func endArray() { bytes.append(UInt8(ascii: "]")); needsComma = true }

    /// A member name; the next value call writes its value.
    public mutating func key(_ k: String) {
        separate()
        writeString(k)
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    public mutating func string(_ s: String) { separate(); writeString(s) }
    public mutating func bool(_ v: Bool) { separate(); bytes.append(contentsOf: v ? Self.trueBytes : Self.falseBytes) }
    public mutating func null() { separate(); bytes.append(contentsOf: Self.nullBytes) }

    public mutating func number(_ v: Int) {
        separate()
        bytes.append(contentsOf: String(v).utf8)
    }

    /// Finite numbers only; integral values are written without a fraction.
    public mutating func number(_ v: Double) {
        separate()
        if v.isFinite, v == v.rounded(), abs(v) < 1e15 {
            bytes.append(contentsOf: String(Int64(v)).utf8)
        } else if v.isFinite {
            bytes.append(contentsOf: String(v).utf8)
        } else {
            bytes.append(contentsOf: Self.nullBytes)
        }
    }

    /// Writes any `JSONValue`.
    public mutating func value(_ v: JSONValue) {
        switch v {
        case .null: null()
        case .bool(let b): bool(b)
        case .number(let n): number(n)
        case .string(let s): string(s)
        case .array(let items):
            beginArray()
            for item in items { value(item) }
            endArray()
        case .object(let o):
            beginObject()
            for m in o.members { key(m.key); value(m.value) }
            endObject()
        }
    }

    /// The text written, followed by `terminator` (a framing byte, such as Varlink's NUL), without
    /// copying it.
    public consuming func finish(terminator: UInt8) -> [UInt8] {
        bytes.append(terminator)
        return bytes
    }

    /// Appends pre-encoded JSON as one value.
    public mutating func raw(_ encoded: [UInt8]) { separate(); bytes.append(contentsOf: encoded) }

    private mutating func writeString(_ s: String) {
        bytes.append(UInt8(ascii: "\""))
        // Most strings (names, ids, timestamps) need no escaping: copied in one go.
        let plain = s.utf8.withContiguousStorageIfAvailable { u -> Bool in
            guard !u.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }) else { return false }
            bytes.append(contentsOf: u)
            return true
        }
        if plain != true { writeEscaped(s) }
        bytes.append(UInt8(ascii: "\""))
    }

    private mutating func writeEscaped(_ s: String) {
        for c in s.utf8 {
            switch c {
            case UInt8(ascii: "\""): bytes.append(0x5C); bytes.append(0x22)
            case UInt8(ascii: "\\"): bytes.append(0x5C); bytes.append(0x5C)
            case 0x0A: bytes.append(0x5C); bytes.append(UInt8(ascii: "n"))
            case 0x0D: bytes.append(0x5C); bytes.append(UInt8(ascii: "r"))
            case 0x09: bytes.append(0x5C); bytes.append(UInt8(ascii: "t"))
            case 0..<0x20:
                bytes.append(contentsOf: Array("\\u00".utf8))
                bytes.append(Self.hex[Int(c >> 4)])
                bytes.append(Self.hex[Int(c & 0xF)])
            default: bytes.append(c)
            }
        }
    }

    private static let trueBytes = Array("true".utf8)
    private static let falseBytes = Array("false".utf8)
    private static let nullBytes = Array("null".utf8)
    private static let hex = Array("0123456789abcdef".utf8)
}

extension JSONValue {
    /// The compact JSON text of this value.
    public var encoded: [UInt8] {
        var w = JSONWriter()
        w.value(self)
        return w.bytes
    }
}
