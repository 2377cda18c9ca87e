/// A strict JSON parser (RFC 8259) over UTF-8 bytes: one value, optional surrounding whitespace,
/// nothing after it. Nesting is limited to `maxDepth` so hostile input cannot exhaust the stack.
public struct JSONParser {
    /// Why a text is not JSON, with the byte offset.
    public struct Failure: Error, Hashable, Sendable, CustomStringConvertible {
        public var offset: Int
        public var reason: String
        public var description: String { "invalid JSON at byte \(offset): \(reason)" }
    }

    public static let maxDepth = 64
    /// Objects up to this many members are checked for duplicate names by a scan; larger ones
    /// by a hash set.
    static let scannedMembers = 16

    /// Parses exactly one JSON value from `bytes`.
    public static func parse<C: Collection>(_ bytes: C) throws(Failure) -> JSONValue where C.Element == UInt8 {
        let result: Result<JSONValue, Failure> = bytes.withContiguousStorageIfAvailable { buffer in
            Result { () throws(Failure) -> JSONValue in try parse(buffer) }
        } ?? Array(bytes).withUnsafeBufferPointer { buffer in
            Result { () throws(Failure) -> JSONValue in try parse(buffer) }
        }
        return try result.get()
    }

    /// Parses exactly one JSON value from contiguous bytes (no generic code on the way in).
    public static func parse(_ buffer: UnsafeBufferPointer<UInt8>) throws(Failure) -> JSONValue {
        var p = JSONParser(buffer, keeping: nil)
        return try p.parseDocument()
    }

    /// Parses exactly one JSON value, keeping in every object, at any depth, only the members
    /// named in `names`: the others are read for syntax and dropped without building their
    /// values. A reader that shows a few members of a large reply (`karstctl list`'s table of
    /// 1,000 jobs) skips most of the work. Duplicate names are still refused among the kept
    /// members; inside a dropped value they are not looked for.
    public static func parse(_ buffer: UnsafeBufferPointer<UInt8>, keeping names: MemberNames) throws(Failure) -> JSONValue {
        var p = JSONParser(buffer, keeping: names)
        return try p.parseDocument()
    }

    /// The member names a filtered parse keeps (`parse(_:keeping:)`), compared as bytes.
    public struct MemberNames: Sendable {
        /// The names by their length in bytes (a name is looked for only among its length's).
        let byLength: [[[UInt8]]]

        public init(_ names: some Sequence<String>) { self.init(bytes: names.map { Array($0.utf8) }) }

        /// The names of both sets.
        public func union(_ other: MemberNames) -> MemberNames { MemberNames(bytes: (byLength + other.byLength).flatMap { $0 }) }

        private init(bytes: [[UInt8]]) {
            var table = [[[UInt8]]](repeating: [], count: (bytes.map(\.count).max() ?? 0) + 1)
            for n in bytes where !table[n.count].contains(n) { table[n.count].append(n) }
            byLength = table
        }

        func contains(_ name: UnsafeBufferPointer<UInt8>) -> Bool {
            guard name.count < byLength.count else { return false }
            for n in byLength[name.count] where n.first == name.first {
                if n.withUnsafeBufferPointer({ a in
                    var k = 1
                    while k < a.count, a[k] == name[k] { k += 1 }
                    return k >= a.count
                }) { return true }
            }
            return false
        }
    }

    private let b: UnsafeBufferPointer<UInt8>
    private let keep: MemberNames?
    private var i = 0
    private var depth = 0

    private init(_ buffer: UnsafeBufferPointer<UInt8>, keeping: MemberNames?) {
        b = buffer
        keep = keeping
    }

    private mutating func parseDocument() throws(Failure) -> JSONValue {
        skipSpace()
        let v = try value()
        skipSpace()
        guard i == b.count else { throw fail("unexpected data after the value") }
        return v
    }

    private func fail(_ reason: String) -> Failure { Failure(offset: i, reason: reason) }

    @inline(__always)
    private mutating func skipSpace() {
        while i < b.count, b[i] == 0x20 || b[i] == 0x0A || b[i] == 0x0D || b[i] == 0x09 { i += 1 }
    }

    private mutating func value() throws(Failure) -> JSONValue {
        guard i < b.count else { throw fail("unexpected end of input") }
        switch b[i] {
        case UInt8(ascii: "{"): return try object()
        case UInt8(ascii: "["): return try array()
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
        default: throw fail("unexpected character")
        }
    }

    private mutating func literal(_ word: StaticString) throws(Failure) {
        let n = word.utf8CodeUnitCount
        guard i + n <= b.count else { throw fail("unexpected end of input") }
        for k in 0..<n where b[i + k] != word.utf8Start[k] { throw fail("unexpected character") }
        i += n
    }

    private mutating func object() throws(Failure) -> JSONValue {
        depth += 1
        guard depth <= Self.maxDepth else { throw fail("nested deeper than \(Self.maxDepth)") }
        defer { depth -= 1 }
        i += 1
        var members: [(key: String, value: JSONValue)] = []
        skipSpace()
        if i < b.count, b[i] == UInt8(ascii: "}") { i += 1; return .object(JSONObject(members)) }
        // Duplicates: a scan while the object is small (most are), a set beyond. A scan alone is
        // quadratic: one 1 MiB object of 80,000 members would hold an event loop for seconds.
        var seen: Set<String>? = nil
        while true {
            skipSpace()
            guard i < b.count, b[i] == UInt8(ascii: "\"") else { throw fail("expected a member name") }
            // A filtered parse steps over a plain name it does not keep without building it.
            var key: String? = nil
            if let keep {
                if let name = plainString() {
                    // Plain ASCII: the name is its bytes as they stand.
                    if keep.contains(name) { key = String(decoding: name, as: UTF8.self) }
                    i += name.count + 2
                } else {
                    let k = try string()
                    if Array(k.utf8).withUnsafeBufferPointer({ keep.contains($0) }) { key = k }
                }
            } else {
                key = try string()
            }
            if let key {
                if members.count < Self.scannedMembers {
                    if members.contains(where: { $0.key == key }) { throw fail("duplicate member \"\(key)\"") }
                } else {
                    if seen == nil { seen = Set(members.lazy.map(\.key)) }
                    if !seen!.insert(key).inserted { throw fail("duplicate member \"\(key)\"") }
                }
            }
            skipSpace()
            guard i < b.count, b[i] == UInt8(ascii: ":") else { throw fail("expected ':'") }
            i += 1
            skipSpace()
            if let key {
                // Room at the first member kept: for eight (352 bytes) saves growing most objects
                // of a whole parse. A filtered parse keeps a few members of some objects and none
                // of others (a list's table keeps two of a job's spec and nothing of its
                // resources): room for four. Eight for every object was a sixth of the heap a
                // `karstctl list` of 1,000 jobs touched, a page fault every 4 KiB; no room at all
                // cost more in growth.
                if members.isEmpty { members.reserveCapacity(keep == nil ? 8 : 4) }
                members.append((key: key, value: try value()))
            } else {
                try skipValue()
            }
            skipSpace()
            guard i < b.count else { throw fail("unexpected end of input") }
            if b[i] == UInt8(ascii: ",") { i += 1; continue }
            if b[i] == UInt8(ascii: "}") { i += 1; return .object(JSONObject(members)) }
            throw fail("expected ',' or '}'")
        }
    }

    private mutating func array() throws(Failure) -> JSONValue {
        depth += 1
        guard depth <= Self.maxDepth else { throw fail("nested deeper than \(Self.maxDepth)") }
        defer { depth -= 1 }
        i += 1
        var items: [JSONValue] = []
        skipSpace()
        if i < b.count, b[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
        while true {
            skipSpace()
            items.append(try value())
            skipSpace()
            guard i < b.count else { throw fail("unexpected end of input") }
            if b[i] == UInt8(ascii: ",") { i += 1; continue }
            if b[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
            throw fail("expected ',' or ']'")
        }
    }

    /// The contents of the string at `i` when it is plain ASCII (no escapes, no control
    /// characters), without moving; nil otherwise (then `string()` reads it).
    private func plainString() -> UnsafeBufferPointer<UInt8>? {
        let k = plainRunEnd(from: i + 1)
        guard k < b.count, b[k] == UInt8(ascii: "\"") else { return nil }
        return UnsafeBufferPointer(rebasing: b[(i + 1)..<k])
    }

    /// The index of the first byte from `k` on that ends a plain run of string contents — a
    /// quote, a backslash, a control character or a non-ASCII byte — or `b.count`. Eight bytes
    /// at a time while none of them is one (strings are most of a reply's bytes).
    @inline(__always)
    private func plainRunEnd(from start: Int) -> Int {
        var k = start
        if let base = UnsafeRawPointer(b.baseAddress) {
            let ones: UInt64 = 0x0101_0101_0101_0101
            let highs: UInt64 = 0x8080_8080_8080_8080
            while k + 8 <= b.count {
                let v = (base + k).loadUnaligned(as: UInt64.self)
                let quote = v ^ (ones &* 0x22), backslash = v ^ (ones &* 0x5C)
                // A byte is zero in `x` when (x - 1) & ~x has its high bit; below 0x20 likewise.
                let stop = ((quote &- ones) & ~quote) | ((backslash &- ones) & ~backslash) | ((v &- ones &* 0x20) & ~v) | v
                if stop & highs != 0 { break }
                k += 8
            }
        }
        while k < b.count {
            let c = b[k]
            if c == UInt8(ascii: "\"") || c == UInt8(ascii: "\\") || c < 0x20 || c >= 0x80 { return k }
            k += 1
        }
        return k
    }

    /// Reads the value at `i` for syntax only: plain strings are stepped over, anything else is
    /// read as usual (nested objects filtered too) and dropped.
    private mutating func skipValue() throws(Failure) {
        guard i < b.count else { throw fail("unexpected end of input") }
        switch b[i] {
        case UInt8(ascii: "\""):
            if let s = plainString() { i += s.count + 2 } else { _ = try string() }
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): _ = try number(converting: false)
        default: _ = try value()
        }
    }

    private mutating func string() throws(Failure) -> String {
        i += 1
        let start = i
        // Fast path: no escapes.
        var ascii = true
        while true {
            i = plainRunEnd(from: i)
            guard i < b.count, b[i] >= 0x80 else { break }
            ascii = false
            i += 1
        }
        guard i < b.count else { throw fail("unterminated string") }
        if b[i] == UInt8(ascii: "\"") {
            let slice = UnsafeBufferPointer(rebasing: b[start..<i])
            i += 1
            // ASCII is valid UTF-8 as it stands: no validation pass (the common case by far).
            if ascii { return String(decoding: slice, as: UTF8.self) }
            guard let s = String(validating: slice, as: UTF8.self) else { i -= 1; throw fail("invalid UTF-8 in string") }
            return s
        }
        var bytes = Array(b[start..<i])
        while true {
            guard i < b.count else { throw fail("unterminated string") }
            let c = b[i]
            if c == UInt8(ascii: "\"") { i += 1; break }
            if c < 0x20 { throw fail("control character in string") }
            if c != UInt8(ascii: "\\") { bytes.append(c); i += 1; continue }
            i += 1
            guard i < b.count else { throw fail("unterminated escape") }
            let e = b[i]
            i += 1
            switch e {
            case UInt8(ascii: "\""): bytes.append(0x22)
            case UInt8(ascii: "\\"): bytes.append(0x5C)
            case UInt8(ascii: "/"): bytes.append(0x2F)
            case UInt8(ascii: "b"): bytes.append(0x08)
            case UInt8(ascii: "f"): bytes.append(0x0C)
            case UInt8(ascii: "n"): bytes.append(0x0A)
            case UInt8(ascii: "r"): bytes.append(0x0D)
            case UInt8(ascii: "t"): bytes.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if (0xD800..<0xDC00).contains(scalar) {
                    guard i + 1 < b.count, b[i] == UInt8(ascii: "\\"), b[i + 1] == UInt8(ascii: "u") else {
                        throw fail("unpaired surrogate")
                    }
                    i += 2
                    let low = try hex4()
                    guard (0xDC00..<0xE000).contains(low) else { throw fail("unpaired surrogate") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00..<0xE000).contains(scalar) {
                    throw fail("unpaired surrogate")
                }
                guard let u = Unicode.Scalar(scalar) else { throw fail("invalid escape") }
                bytes.append(contentsOf: Array(String(Character(u)).utf8))
            default: throw fail("invalid escape")
            }
        }
        guard let s = String(validating: bytes, as: UTF8.self) else { throw fail("invalid UTF-8 in string") }
        return s
    }

    private mutating func hex4() throws(Failure) -> UInt32 {
        guard i + 4 <= b.count else { throw fail("short \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = b[i]
            let d: UInt32
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(c - 48)
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(c - 87)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(c - 55)
            default: throw fail("bad hex digit")
            }
            v = v * 16 + d
            i += 1
        }
        return v
    }

    /// Reads a number; without `converting`, for syntax only (0 when it is not a plain
    /// integer): a dropped member's value is checked, not converted.
    private mutating func number(converting: Bool = true) throws(Failure) -> Double {
        let start = i
        var negative = false
        if b[i] == UInt8(ascii: "-") { negative = true; i += 1 }
        guard i < b.count, (48...57).contains(b[i]) else { throw fail("expected a digit") }
        var integer: Int64 = 0
        var digits = 0
        if b[i] == UInt8(ascii: "0") {
            i += 1
            digits = 1
        } else {
            while i < b.count, (48...57).contains(b[i]) {
                if digits < 18 { integer = integer * 10 + Int64(b[i] - 48) }
                digits += 1
                i += 1
            }
        }
        var simple = digits <= 15
        if i < b.count, b[i] == UInt8(ascii: ".") {
            simple = false
            i += 1
            guard i < b.count, (48...57).contains(b[i]) else { throw fail("expected a digit after '.'") }
            while i < b.count, (48...57).contains(b[i]) { i += 1 }
        }
        if i < b.count, b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") {
            simple = false
            i += 1
            if i < b.count, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") { i += 1 }
            guard i < b.count, (48...57).contains(b[i]) else { throw fail("expected an exponent") }
            while i < b.count, (48...57).contains(b[i]) { i += 1 }
        }
        if simple { return negative ? -Double(integer) : Double(integer) }
        if !converting { return 0 }
        let text = String(decoding: UnsafeBufferPointer(rebasing: b[start..<i]), as: UTF8.self)
        guard let d = Double(text), d.isFinite else { throw fail("number out of range") }
        return d
    }
}
