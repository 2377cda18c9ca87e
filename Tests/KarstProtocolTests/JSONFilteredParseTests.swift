import KarstCore
import KarstProtocol
import Testing

/// `JSONParser.parse(_:keeping:)`, which `karstctl list` reads its replies with: it must give
/// exactly the full parse with the unnamed members removed, and refuse what the full parse
/// refuses (but for what it documents it does not look at in a dropped value).
@Suite struct JSONFilteredParseTests {
    static let names = ["id", "state", "spec", "tenant", "a", "b", "c", "ünï", "q\"uote", "long-name-of-twenty-chars"]

    func string(_ r: inout SeededRandom) -> String {
        let pieces = ["x", "job-17", "\"", "\\", "\n", "\u{1}", "é", "😀", "2026-12-04T18:05:40.759790Z", " ", "/"]
        return (0..<r.below(6)).map { _ in pieces[r.below(pieces.count)] }.joined()
    }

    func value(_ r: inout SeededRandom, depth: Int) -> JSONValue {
        switch r.below(depth > 3 ? 4 : 7) {
        case 0: return .null
        case 1: return .bool(r.below(2) == 0)
        case 2: return .number([0, -1, 0.001, 1e300, 123_456_789_012, -2.5][r.below(6)])
        case 3: return .string(string(&r))
        case 4, 5:
            var o = JSONObject()
            for _ in 0..<r.below(6) {
                let key = r.below(3) == 0 ? string(&r) : Self.names[r.below(Self.names.count)]
                if o[key] == nil { o[key] = value(&r, depth: depth + 1) }
            }
            return .object(o)
        default: return .array((0..<r.below(4)).map { _ in value(&r, depth: depth + 1) })
        }
    }

    func kept(_ v: JSONValue, _ names: Set<String>) -> JSONValue {
        switch v {
        case .object(let o):
            return .object(JSONObject(o.members.filter { names.contains($0.key) }.map { (key: $0.key, value: kept($0.value, names)) }))
        case .array(let a): return .array(a.map { kept($0, names) })
        default: return v
        }
    }

    func parse(_ text: [UInt8], keeping names: [String]) throws -> JSONValue {
        try text.withUnsafeBufferPointer { try JSONParser.parse($0, keeping: JSONParser.MemberNames(names)) }
    }

    @Test func keepsExactlyTheNamedMembersAtEveryDepth() throws {
        var r = SeededRandom(seed: 7)
        for round in 0..<2_000 {
            let v = value(&r, depth: 0)
            let names = Self.names.filter { _ in r.below(2) == 0 } + (round % 5 == 0 ? [string(&r)] : [])
            let text = v.encoded
            #expect(try parse(text, keeping: names) == kept(try JSONParser.parse(text), Set(names)), "\(String(decoding: text, as: UTF8.self))")
        }
    }

    @Test(arguments: ["{\"x\":[1,]}", "{\"x\":\"abc}", "{\"x\":\"\\x\"}", "{\"x\":tru}", "{\"x\":01}", "{\"x\":\"\u{01}\"}",
                      "{\"x\":1,}", "{\"x\" 1}", "{\"x\":{\"y\" 2}}", "{\"x\":\"\\ud800\"}", "{\"x\":1}x", "{\"x\":-}"])
    func refusesMalformedDroppedValues(_ text: String) {
        #expect(throws: JSONParser.Failure.self) { try parse(Array(text.utf8), keeping: ["id"]) }
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(Array(text.utf8)) }
    }

    @Test func refusesInvalidUTF8InADroppedValue() {
        #expect(throws: JSONParser.Failure.self) { try parse([0x7B, 0x22, 0x78, 0x22, 0x3A, 0x22, 0xFF, 0x22, 0x7D], keeping: ["id"]) }
    }

    /// Documented: a dropped number is read for syntax only, and names inside a dropped value
    /// are not checked for duplicates; the kept members are.
    @Test func whatItDoesNotLookAtInADroppedValue() throws {
        #expect(try parse(Array(#"{"x":1e999,"id":1}"#.utf8), keeping: ["id"]) == .object(["id": .number(1)]))
        #expect(try parse(Array(#"{"x":{"a":1,"a":2},"id":1}"#.utf8), keeping: ["id"]) == .object(["id": .number(1)]))
        #expect(throws: JSONParser.Failure.self) { try parse(Array(#"{"id":1,"id":2}"#.utf8), keeping: ["id"]) }
    }

    /// Strings are scanned eight bytes at a time: a byte that ends the plain run (quote,
    /// backslash, control, non-ASCII) at any place in a word, in strings of every length.
    @Test func readsStringsWithTheirSpecialByteAtEveryPlace() throws {
        for length in 0..<40 {
            for at in 0..<max(length, 1) {
                for special in ["\"", "\\", "\n", "\u{1F}", "é", "\u{7F}"] {
                    var chars = Array(repeating: "a", count: length)
                    if length > 0 { chars[at] = special }
                    let v = JSONValue.string(chars.joined())
                    #expect(try JSONParser.parse(v.encoded) == v)
                    let o = JSONValue.object(["id": v, "x": v])
                    #expect(try parse(o.encoded, keeping: ["id"]) == .object(["id": v]))
                }
            }
        }
    }

    /// An error reply is read whole, so the parameters that name the fault are never cut.
    @Test func errorRepliesAreParsedWhole() throws {
        let frame = Array(#"{"error":"io.karst.Protocol.OutOfRange","parameters":{"field":"limit","bound":"1...100000"}}"#.utf8)
        let parsed = try frame.withUnsafeBufferPointer { try VarlinkReply.parse($0, keeping: JSONParser.MemberNames(["jobs"])) }
        #expect(parsed.error?.name == "io.karst.Protocol.OutOfRange")
        #expect(parsed.parameters["field"] == .string("limit") && parsed.parameters["bound"] == .string("1...100000"))
        let ok = Array(#"{"parameters":{"jobs":[{"id":"job-1","spec":{}}],"remaining":0},"continues":false}"#.utf8)
        let reply = try ok.withUnsafeBufferPointer { try VarlinkReply.parse($0, keeping: JSONParser.MemberNames(["jobs", "id"])) }
        #expect(reply.parameters == ["jobs": .array([.object(["id": .string("job-1")])])])
    }
}

extension SeededRandom {
    /// A uniform integer in 0..<n.
    fileprivate mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}
