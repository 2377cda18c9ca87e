import KarstJSON
import KarstProtocol
import KarstServer
import NIOCore
import NIOEmbedded

extension FuzzTarget {
    /// Frame splitting and call parsing: the input arrives in chunks (sized by its own bytes)
    /// through the NUL decoder with a 1 KiB limit; every frame is parsed as a call and, where no
    /// state is needed, answered. Properties: no frame exceeds the limit or holds a NUL, and the
    /// decoder consumes no more than it was given.
    public static let frames = FuzzTarget(name: "frames", summary: "NUL framing, call parsing, local answers") { input in
        let limit = 1024
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(VarlinkFrameDecoder(maxFrameBytes: limit)))
        defer { _ = try? channel.finish() }
        var at = 0, framed = 0
        while at < input.count {
            let n = min(input.count - at, 1 + Int(input[at] % 97))
            var buffer = channel.allocator.buffer(capacity: n)
            buffer.writeBytes(UnsafeBufferPointer(rebasing: input[at..<(at + n)]))
            at += n
            do { try channel.writeInbound(buffer) } catch { return }  // FrameTooLarge ends the stream
            while let frame = try? channel.readInbound(as: ByteBuffer.self) {
                let bytes = frame.readableBytesView
                guard bytes.count <= limit, !bytes.contains(0) else { fatalError("frame of \(bytes.count) bytes passed the decoder") }
                framed += bytes.count + 1
                let decision = Array(bytes).withUnsafeBufferPointer { CallIntake.decide(frame: $0, version: "fuzz") }
                if case .reply(let reply, _) = decision { checkReply(reply) }
            }
        }
        guard framed <= input.count else { fatalError("decoded \(framed) bytes of \(input.count)") }
    }

    /// The JSON parser: whatever it accepts must write back and parse to the same value.
    public static let json = FuzzTarget(name: "json", summary: "JSON parser, its filtered parse, and writer round trip") { input in
        // The filtered parse (karstctl list's) reads anything without trapping; on a text the
        // full parse takes, it gives exactly the full parse's value with the other members gone.
        let filtered = try? JSONParser.parse(input, keeping: keptNames)
        guard let value = try? JSONParser.parse(input) else { return }
        guard filtered == keeping(value) else {
            fatalError("the filtered parse gave \(String(describing: filtered)) for \(value)")
        }
        let written = value.encoded
        guard let again = try? JSONParser.parse(written) else {
            fatalError("wrote JSON that does not parse: \(String(decoding: written, as: UTF8.self))")
        }
        guard again == value else { fatalError("round trip changed \(value) into \(again)") }
    }

    /// The names the json target's filtered parse keeps: a few the corpus and mutations use.
    static let kept: Set<String> = ["id", "jobs", "spec", "method", "parameters", "a", "é"]
    static let keptNames = JSONParser.MemberNames(kept)

    /// `value` with only `kept` members in every object.
    static func keeping(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object(let o):
            return .object(JSONObject(o.members.filter { kept.contains($0.key) }.map { (key: $0.key, value: keeping($0.value)) }))
        case .array(let items): return .array(items.map(keeping))
        default: return value
        }
    }
}

/// A reply frame must be a Varlink reply (with its NUL).
func checkReply(_ frame: [UInt8]) {
    guard frame.last == 0, (try? VarlinkReply.parse(frame.dropLast())) != nil else {
        fatalError("not a Varlink reply: \(String(decoding: frame, as: UTF8.self))")
    }
}
