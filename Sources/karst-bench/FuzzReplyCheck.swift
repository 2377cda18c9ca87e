import KarstProtocol

/// Whether a frame from the daemon is a Varlink reply: a JSON object with only `parameters`,
/// `error` and `continues`; either `parameters` (an object), or `error` (a qualified error name)
/// with optional `parameters` (an object); `continues`, if there, a bool.
enum FuzzReplyCheck {
    /// What the campaign needs of a good reply.
    struct Reply {
        var error: String?
        var continues: Bool
        /// `parameters.text`, as a Ping answers.
        var text: String?
    }

    /// The reply, or why the frame is not one.
    static func check(_ frame: ArraySlice<UInt8>) -> Result<Reply, Problem> {
        let value: JSONValue
        do { value = try JSONParser.parse(frame) } catch { return .failure(Problem(reason: "not JSON: \(error)")) }
        guard case .object(let o) = value else { return .failure(Problem(reason: "not an object")) }
        if let key = o.keys.first(where: { !["parameters", "error", "continues"].contains($0) }) {
            return .failure(Problem(reason: "unknown reply field \"\(key)\""))
        }
        var continues = false
        switch o["continues"] {
        case nil: break
        case .bool(let b)?: continues = b
        default: return .failure(Problem(reason: "\"continues\" is not a bool"))
        }
        let parameters = o["parameters"]
        if let p = parameters, p.objectValue == nil { return .failure(Problem(reason: "\"parameters\" is not an object")) }
        guard let errorValue = o["error"] else {
            guard let p = parameters?.objectValue else { return .failure(Problem(reason: "neither parameters nor error")) }
            return .success(Reply(error: nil, continues: continues, text: p["text"]?.stringValue))
        }
        guard let name = errorValue.stringValue, isQualified(name) else {
            return .failure(Problem(reason: "\"error\" is not a qualified error name"))
        }
        return .success(Reply(error: name, continues: continues, text: nil))
    }

    /// `interface.Name`: a dotted interface name, then a member name starting upper case.
    private static func isQualified(_ name: String) -> Bool {
        guard let dot = name.lastIndex(of: "."), name[..<dot].contains("."),
              let first = name[name.index(after: dot)...].first else { return false }
        return first.isUppercase && first.isASCII
    }

    /// Why a frame is not a Varlink reply.
    struct Problem: Error {
        var reason: String
    }
}
