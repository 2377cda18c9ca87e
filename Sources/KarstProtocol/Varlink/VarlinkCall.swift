/// One method call as received: `{"method": "iface.Method", "parameters": {…}, "more": true}`.
public struct VarlinkCall: Hashable, Sendable {
    /// Fully qualified: `io.karst.Scheduler.Submit`.
    public var method: String
    public var parameters: JSONObject
    /// The caller accepts a stream of replies.
    public var more: Bool
    /// The caller wants no reply.
    public var oneway: Bool
    /// The caller asks to leave Varlink for another protocol (not supported here).
    public var upgrade: Bool

    public init(method: String, parameters: JSONObject = [:], more: Bool = false, oneway: Bool = false,
                upgrade: Bool = false) {
        self.method = method
        self.parameters = parameters
        self.more = more
        self.oneway = oneway
        self.upgrade = upgrade
    }

    /// Decodes one framed message. A message that is not a call at all is an `InvalidMessage`.
    public init(frame: some Collection<UInt8>) throws(VarlinkError) {
        let parsed = frame.withContiguousStorageIfAvailable { bytes in
            Result { () throws(VarlinkError) in try Self(frame: bytes) }
        } ?? Array(frame).withUnsafeBufferPointer { bytes in
            Result { () throws(VarlinkError) in try Self(frame: bytes) }
        }
        self = try parsed.get()
    }

    /// Decodes one framed message from contiguous bytes (the connection's path: no generic
    /// collection code per call).
    public init(frame: UnsafeBufferPointer<UInt8>) throws(VarlinkError) {
        let value: JSONValue
        do { value = try JSONParser.parse(frame) } catch { throw .invalidMessage(error.description) }
        guard case .object(let o) = value else { throw .invalidMessage("a message must be a JSON object") }
        guard let methodValue = o["method"] else { throw .invalidMessage("the message has no \"method\"") }
        guard case .string(let method) = methodValue else { throw .invalidMessage("\"method\" must be a string") }
        var parameters = JSONObject()
        if let p = o["parameters"] {
            switch p {
            case .object(let obj): parameters = obj
            case .null: break
            default: throw .invalidParameter("parameters")
            }
        }
        func flag(_ key: String) throws(VarlinkError) -> Bool {
            switch o[key] {
            case nil, .null?: return false
            case .bool(let b)?: return b
            default: throw .invalidMessage("\"\(key)\" must be true or false")
            }
        }
        for m in o.members {
            switch m.key {
            case "method", "parameters", "more", "oneway", "upgrade": continue
            default: throw .invalidMessage("unknown message field \"\(m.key)\"")
            }
        }
        self.init(method: method, parameters: parameters, more: try flag("more"), oneway: try flag("oneway"),
                  upgrade: try flag("upgrade"))
    }

    /// The interface part of `method` (`io.karst.Scheduler`).
    public var interface: String {
        guard let dot = method.lastIndex(of: ".") else { return "" }
        return String(method[..<dot])
    }

    /// The member part of `method` (`Submit`).
    public var member: String {
        guard let dot = method.lastIndex(of: ".") else { return method }
        return String(method[method.index(after: dot)...])
    }

    /// Frames a call whose parameters are written by `body` (inside the parameters object).
    public static func frame(method: String, more: Bool = false, oneway: Bool = false,
                             _ body: (inout JSONWriter) -> Void) -> [UInt8] {
        envelope(method: method, more: more, oneway: oneway) { w in
            w.beginObject()
            body(&w)
            w.endObject()
        }
    }

    /// A call whose parameters, a wire value, are written straight into the frame, with no JSON
    /// tree built in between (what a short-lived client such as karstctl sends).
    public static func frame<P: WireValue>(method: String, parameters: P) -> [UInt8] {
        envelope(method: method, more: false, oneway: false) { parameters.write(to: &$0) }
    }

    /// The framed bytes of this call (JSON + NUL), as a client sends them.
    public var framed: [UInt8] {
        Self.envelope(method: method, more: more, oneway: oneway, withParameters: !parameters.isEmpty) {
            $0.value(.object(parameters))
        }
    }

    /// The one shape of every framed call: `method`, then `parameters` as `write` puts them
    /// (left out without `withParameters`), then the flags that are set; NUL-terminated.
    private static func envelope(method: String, more: Bool, oneway: Bool, withParameters: Bool = true,
                                 _ write: (inout JSONWriter) -> Void) -> [UInt8] {
        var w = JSONWriter(capacity: 256)
        w.beginObject()
        w.key("method"); w.string(method)
        if withParameters { w.key("parameters"); write(&w) }
        if more { w.key("more"); w.bool(true) }
        if oneway { w.key("oneway"); w.bool(true) }
        w.endObject()
        return w.finish(terminator: 0)
    }
}
