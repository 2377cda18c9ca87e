import KarstProtocol
import NIOCore
import NIOEmbedded
import NIOTestUtils
import Testing

@Suite struct VarlinkFramingTests {
    func buffer(_ s: String) -> ByteBuffer { ByteBuffer(bytes: Array(s.utf8)) }

    @Test func splitsAtNULWhateverTheReadBoundaries() throws {
        // The verifier feeds the input byte by byte, all at once and in random chunks.
        let input = buffer("{\"method\":\"a.b.C\"}\0{}\0\0{\"x\":1}\0")
        let expected = ["{\"method\":\"a.b.C\"}", "{}", "", "{\"x\":1}"].map(buffer)
        try ByteToMessageDecoderVerifier.verifyDecoder(
            inputOutputPairs: [(input, expected)],
            decoderFactory: { VarlinkFrameDecoder(maxFrameBytes: 1024) })
    }

    @Test func refusesAnOversizedFrameBeforeItEnds() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(VarlinkFrameDecoder(maxFrameBytes: 16)))
        // 17 bytes and no NUL yet: refused now, not when the (never-ending) message completes.
        #expect(throws: VarlinkFrameDecoder.FrameTooLarge.self) {
            try channel.writeInbound(ByteBuffer(bytes: Array(repeating: UInt8(ascii: "a"), count: 17)))
        }
        _ = try? channel.finish()
    }

    @Test func acceptsAFrameOfExactlyTheLimit() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(VarlinkFrameDecoder(maxFrameBytes: 4)))
        try channel.writeInbound(ByteBuffer(bytes: Array("abcd\0".utf8)))
        #expect(try channel.readInbound(as: ByteBuffer.self) == ByteBuffer(bytes: Array("abcd".utf8)))
        _ = try channel.finish()
    }
}

@Suite struct VarlinkMessageTests {
    func call(_ s: String) throws(VarlinkError) -> VarlinkCall { try VarlinkCall(frame: Array(s.utf8)) }

    @Test func decodesCalls() throws {
        let c = try call(#"{"method":"io.karst.Scheduler.Watch","parameters":{"tenant":"a"},"more":true}"#)
        #expect(c.interface == "io.karst.Scheduler")
        #expect(c.member == "Watch")
        #expect(c.more && !c.oneway)
        #expect(c.parameters["tenant"] == .string("a"))
        #expect(try call(#"{"method":"a.b.C","parameters":null}"#).parameters.isEmpty)
    }

    @Test(arguments: [("not json", "io.karst.Protocol.InvalidMessage"),
                      ("[1]", "io.karst.Protocol.InvalidMessage"),
                      (#"{"parameters":{}}"#, "io.karst.Protocol.InvalidMessage"),
                      (#"{"method":7}"#, "io.karst.Protocol.InvalidMessage"),
                      (#"{"method":"a.b.C","more":"yes"}"#, "io.karst.Protocol.InvalidMessage"),
                      (#"{"method":"a.b.C","parameters":[1]}"#, "org.varlink.service.InvalidParameter")])
    func namesWhatIsWrong(_ text: String, _ expected: String) {
        let result = Result { () throws(VarlinkError) in try call(text) }
        #expect(result.failure?.name == expected)
    }

    @Test func encodesRepliesAndErrors() throws {
        let ok = VarlinkReply.frame(continues: true) { w in w.key("n"); w.number(1) }
        #expect(String(decoding: ok, as: UTF8.self) == "{\"parameters\":{\"n\":1},\"continues\":true}\0")
        let err = VarlinkReply.frame(error: .invalidParameter("job.cpu"))
        let parsed = try VarlinkReply.parse(err.dropLast())
        #expect(parsed.error == .invalidParameter("job.cpu"))
    }

    @Test func theParameterReaderNamesTheFieldPath() throws {
        let o = try #require(try JSONParser.parse(Array(#"{"job":{"resources":{"cpu":"4"}}}"#.utf8)).objectValue)
        var r = ParameterReader(o)
        var job = try r.requiredObject("job")
        var res = try job.requiredObject("resources")
        #expect(throws: VarlinkError.invalidParameter("job.resources.cpu")) { try res.double("cpu") }
        var extra = ParameterReader(["id": .string("x"), "idd": .number(1)])
        _ = try extra.string("id")
        #expect(throws: VarlinkError.invalidParameter("idd")) { try extra.finish() }
    }
}

extension Result {
    var failure: Failure? { if case .failure(let f) = self { f } else { nil } }
}

@Suite struct InterfaceDescriptionTests {
    @Test(arguments: ["io.karst.Scheduler", "io.karst.Admin", "io.karst.Agent", "io.karst.Protocol"])
    func theServedInterfacesParse(_ name: String) throws {
        let text = try #require(EmbeddedInterfaces.descriptions[name])
        let iface = try VarlinkInterface(parsing: text)
        #expect(iface.name == name)
    }

    @Test func theSchedulerInterfaceHasTheContractsMethodsAndErrors() throws {
        let iface = try VarlinkInterface(parsing: EmbeddedInterfaces.descriptions["io.karst.Scheduler"]!)
        #expect(Set(iface.methods.keys) == ["Submit", "SubmitBatch", "Get", "List", "ListSummaries", "Cancel", "Hold", "Release",
                                            "Complete", "Watch"])
        #expect(Set(iface.errors.keys) == ["NoSuchJob", "InvalidJob", "QuotaExceeded", "InvalidTransition",
                                           "StorageUnavailable", "Unschedulable", "OutOfRange", "AgentRefused"])
        #expect(iface.methods["Submit"]?.input.map(\.name) == ["job", "dryRun"])
    }

    @Test(arguments: ["interface a", "interface .b\nmethod X() -> ()", "interface a.b\nmethod x() -> ()",
                      "interface a.b\ntype T (a: Missing)", "interface a.b\nmethod X(a: int -> ()",
                      "interface a.b\nerror E (a: ??int)", "interface a.b\ntype T (a: int)\ntype T (b: int)"])
    func rejectsBadDescriptions(_ text: String) {
        #expect(throws: VarlinkInterface.ParseError.self) { try VarlinkInterface(parsing: text) }
    }
}
