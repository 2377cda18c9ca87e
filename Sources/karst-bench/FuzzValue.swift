/// A JSON tree as the fuzzer builds and mutates it. Unlike `JSONValue`, a number keeps its exact
/// text (so `-0`, `1e300` and 400-digit integers reach the daemon as written) and an object may
/// repeat a key.
indirect enum FuzzValue: Sendable {
    case null
    case bool(Bool)
    /// The literal text of a number, written as is.
    case number(String)
    case string(String)
    case array([FuzzValue])
    case object([(key: String, value: FuzzValue)])

    static func int(_ v: Int) -> FuzzValue { .number(String(v)) }
    static func float(_ v: Double) -> FuzzValue { .number(String(v)) }

    /// The members of an object, empty for anything else.
    var members: [(key: String, value: FuzzValue)] {
        if case .object(let m) = self { m } else { [] }
    }

    /// A copy of this object with `key` set (appended when absent); other values are unchanged.
    func setting(_ key: String, _ value: FuzzValue) -> FuzzValue {
        guard case .object(var m) = self else { return self }
        if let i = m.firstIndex(where: { $0.key == key }) { m[i].value = value } else { m.append((key, value)) }
        return .object(m)
    }

    /// The value of the first member named `key`.
    subscript(key: String) -> FuzzValue? { members.first { $0.key == key }?.value }

    /// The JSON text followed by the NUL that ends a Varlink message.
    var framed: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        write(to: &out)
        out.append(0)
        return out
    }

    func write(to out: inout [UInt8]) {
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .number(let text): out.append(contentsOf: text.utf8)
        case .string(let s): Self.writeString(s, to: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                item.write(to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            for (i, m) in members.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                Self.writeString(m.key, to: &out)
                out.append(UInt8(ascii: ":"))
                m.value.write(to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// A JSON string: quotes, backslashes and control characters escaped, the rest raw UTF-8.
    private static func writeString(_ s: String, to out: inout [UInt8]) {
        let hex = Array("0123456789abcdef".utf8)
        out.append(UInt8(ascii: "\""))
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                out.append(UInt8(ascii: "\\"))
                out.append(b)
            case 0..<0x20:
                out.append(contentsOf: Array("\\u00".utf8))
                out.append(hex[Int(b >> 4)])
                out.append(hex[Int(b & 15)])
            default: out.append(b)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
