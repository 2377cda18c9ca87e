import KarstProtocol
import Testing

@Suite struct JSONTests {
    func parse(_ s: String) throws -> JSONValue { try JSONParser.parse(Array(s.utf8)) }

    @Test func parsesEveryKindOfValue() throws {
        let v = try parse(#" {"a": [1, -2.5, 3e2, true, false, null], "b": {"c": "d\n\u00e9\ud83d\ude00"}} "#)
        let o = try #require(v.objectValue)
        #expect(o["a"] == .array([.number(1), .number(-2.5), .number(300), .bool(true), .bool(false), .null]))
        #expect(o["b"]?.objectValue?["c"] == .string("d\né😀"))
        #expect(o.keys == ["a", "b"])
    }

    @Test(arguments: ["", "{", "[1,]", "{\"a\":1,}", "01", "1.", "-", "\"abc", "\"\\x\"", "tru", "{\"a\" 1}",
                      "{\"a\":1}{}", "\"\u{01}\"", "{\"a\":1,\"a\":2}", "\"\\ud800\"", "1e999"])
    func rejectsMalformedText(_ text: String) {
        #expect(throws: JSONParser.Failure.self) { try parse(text) }
    }

    /// Duplicate names are found in objects of any size, in time linear in their members: one
    /// 80,000-member message (1 MiB) once held an event loop for seconds, the check being a scan.
    @Test func findsDuplicatesInLargeObjectsWithoutAScanPerMember() throws {
        let members = (0..<80_000).map { "\"k\($0)\":\($0)" }
        let object = try #require(try parse("{" + members.joined(separator: ",") + "}").objectValue)
        #expect(object.members.count == 80_000)
        for at in [3, 17, 79_999] {
            let dup = members + ["\"k\(at)\":0"]
            #expect(throws: JSONParser.Failure.self) { try parse("{" + dup.joined(separator: ",") + "}") }
        }
    }

    @Test func rejectsInvalidUTF8() {
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse([0x22, 0xFF, 0x22]) }
    }

    @Test func limitsNesting() {
        let deep = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        #expect(throws: JSONParser.Failure.self) { try parse(deep) }
        let ok = String(repeating: "[", count: 60) + String(repeating: "]", count: 60)
        #expect((try? parse(ok)) != nil)
    }

    @Test func writesWhatItParses() throws {
        let texts = [#"{"a":"q\"uo\\te\t\u0001","b":[1,2.5,null,true],"c":{}}"#, #"[]"#, #""é""#, "-0.001"]
        for t in texts {
            let v = try parse(t)
            #expect(try JSONParser.parse(v.encoded) == v)
        }
        #expect(String(decoding: JSONValue.number(3).encoded, as: UTF8.self) == "3")
        #expect(String(decoding: JSONValue.string("\u{1}").encoded, as: UTF8.self) == #""\u0001""#)
    }
}
