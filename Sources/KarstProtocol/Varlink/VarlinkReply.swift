/// Encodes replies: `{"parameters": {…}, "continues": true}` or `{"error": "…", "parameters": {…}}`,
/// each followed by the NUL that ends a Varlink message.
public enum VarlinkReply {
    /// A successful reply whose parameters are written by `body` (inside the parameters object).
    public static func frame(continues: Bool = false, _ body: (inout JSONWriter) -> Void) -> [UInt8] {
        // A job reply is about 600 bytes: one allocation, no regrowth.
        var w = JSONWriter(capacity: 1024)
        w.beginObject()
        w.key("parameters")
        w.beginObject()
        body(&w)
        w.endObject()
        if continues { w.key("continues"); w.bool(true) }
        w.endObject()
        return w.finish(terminator: 0)
    }

    /// A successful reply whose parameters are a generated struct (`SchedulerInterface.Get.Reply`).
    public static func frame(parameters: some WireStruct, continues: Bool = false) -> [UInt8] {
        var w = JSONWriter(capacity: 1024)
        w.beginObject()
        w.key("parameters")
        parameters.write(to: &w)
        if continues { w.key("continues"); w.bool(true) }
        w.endObject()
        return w.finish(terminator: 0)
    }

    /// An error reply.
    public static func frame(error: VarlinkError) -> [UInt8] {
        var w = JSONWriter()
        w.beginObject()
        w.key("error"); w.string(error.name)
        w.key("parameters"); w.value(.object(error.parameters))
        w.endObject()
        return w.finish(terminator: 0)
    }

    /// A reply parsed on the client side.
    public struct Parsed: Sendable {
        public var parameters: JSONObject
        public var continues: Bool
        public var error: VarlinkError?
    }

    /// Parses one framed reply (without its NUL).
    public static func parse(_ frame: some Collection<UInt8>) throws(VarlinkError) -> Parsed {
        let parsed = frame.withContiguousStorageIfAvailable { bytes in
            Result { () throws(VarlinkError) in try parse(bytes) }
        } ?? Array(frame).withUnsafeBufferPointer { bytes in
            Result { () throws(VarlinkError) in try parse(bytes) }
        }
        return try parsed.get()
    }

    /// Parses one framed reply (without its NUL) from contiguous bytes, through concrete code.
    public static func parse(_ frame: UnsafeBufferPointer<UInt8>) throws(VarlinkError) -> Parsed {
        try parse(frame, keeping: nil)
    }

    /// The reply's own members, kept by every filtered parse.
    static let envelope = JSONParser.MemberNames(["parameters", "continues", "error"])

    /// Parses one framed reply keeping, in its parameters, only the members named in `names`
    /// (at any depth: `JSONParser.parse(_:keeping:)`). An error reply is parsed whole, so its
    /// parameters are never cut.
    public static func parse(_ frame: UnsafeBufferPointer<UInt8>, keeping names: JSONParser.MemberNames?) throws(VarlinkError) -> Parsed {
        let value: JSONValue
        do throws(JSONParser.Failure) {
            if let names { value = try JSONParser.parse(frame, keeping: envelope.union(names)) } else { value = try JSONParser.parse(frame) }
        } catch { throw .invalidMessage(error.description) }
        guard case .object(let o) = value else { throw .invalidMessage("a reply must be a JSON object") }
        if names != nil, o["error"] != nil { return try parse(frame, keeping: nil) }
        let parameters = o["parameters"]?.objectValue ?? [:]
        if let name = o["error"]?.stringValue {
            return Parsed(parameters: parameters, continues: false, error: VarlinkError(name, parameters))
        }
        return Parsed(parameters: parameters, continues: o["continues"]?.boolValue ?? false, error: nil)
    }
}
