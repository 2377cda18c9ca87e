/// Reads typed call parameters from a JSON object. Every failure is
/// `org.varlink.service.InvalidParameter` naming the full path of the field
/// (`job.resources.cpu`); fields nobody read are reported by `finish()`, so a misspelt field is
/// an error rather than silently ignored.
public struct ParameterReader {
    public let object: JSONObject
    public let path: String
    /// Which members were read, by position (objects are small: no hashing).
    private var seen: [Bool]

    public init(_ object: JSONObject, path: String = "") {
        self.object = object
        self.path = path
        seen = Array(repeating: false, count: object.members.count)
    }

    public func fieldPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    private mutating func take(_ key: String) -> JSONValue? {
        guard let i = object.members.firstIndex(where: { $0.key == key }) else { return nil }
        seen[i] = true
        let v = object.members[i].value
        if case .null = v { return nil }
        return v
    }

    public mutating func string(_ key: String) throws(VarlinkError) -> String? {
        guard let v = take(key) else { return nil }
        guard case .string(let s) = v else { throw .invalidParameter(fieldPath(key)) }
        return s
    }

    public mutating func requiredString(_ key: String) throws(VarlinkError) -> String {
        guard let s = try string(key) else { throw .invalidParameter(fieldPath(key)) }
        return s
    }

    public mutating func bool(_ key: String) throws(VarlinkError) -> Bool? {
        guard let v = take(key) else { return nil }
        guard case .bool(let b) = v else { throw .invalidParameter(fieldPath(key)) }
        return b
    }

    public mutating func double(_ key: String) throws(VarlinkError) -> Double? {
        guard let v = take(key) else { return nil }
        guard case .number(let n) = v else { throw .invalidParameter(fieldPath(key)) }
        return n
    }

    public mutating func requiredDouble(_ key: String) throws(VarlinkError) -> Double {
        guard let d = try double(key) else { throw .invalidParameter(fieldPath(key)) }
        return d
    }

    /// An integer: a JSON number with no fraction, within Int's range.
    public mutating func int(_ key: String) throws(VarlinkError) -> Int? {
        guard let v = take(key) else { return nil }
        guard case .number(let n) = v, n == n.rounded(), abs(n) < 9e15 else {
            throw .invalidParameter(fieldPath(key))
        }
        return Int(n)
    }

    public mutating func object(_ key: String) throws(VarlinkError) -> ParameterReader? {
        guard let v = take(key) else { return nil }
        guard case .object(let o) = v else { throw .invalidParameter(fieldPath(key)) }
        return ParameterReader(o, path: fieldPath(key))
    }

    public mutating func requiredObject(_ key: String) throws(VarlinkError) -> ParameterReader {
        guard let o = try object(key) else { throw .invalidParameter(fieldPath(key)) }
        return o
    }

    public mutating func strings(_ key: String) throws(VarlinkError) -> [String]? {
        guard let v = take(key) else { return nil }
        guard case .array(let items) = v else { throw .invalidParameter(fieldPath(key)) }
        var out: [String] = []
        out.reserveCapacity(items.count)
        for (i, item) in items.enumerated() {
            guard case .string(let s) = item else { throw .invalidParameter("\(fieldPath(key))[\(i)]") }
            out.append(s)
        }
        return out
    }

    public mutating func stringMap(_ key: String) throws(VarlinkError) -> [String: String]? {
        guard let v = take(key) else { return nil }
        guard case .object(let o) = v else { throw .invalidParameter(fieldPath(key)) }
        var out: [String: String] = [:]
        for m in o.members {
            guard case .string(let s) = m.value else { throw .invalidParameter("\(fieldPath(key)).\(m.key)") }
            out[m.key] = s
        }
        return out
    }

    /// The objects of an array field, each with its indexed path.
    public mutating func objects(_ key: String) throws(VarlinkError) -> [ParameterReader]? {
        guard let v = take(key) else { return nil }
        guard case .array(let items) = v else { throw .invalidParameter(fieldPath(key)) }
        var out: [ParameterReader] = []
        for (i, item) in items.enumerated() {
            guard case .object(let o) = item else { throw .invalidParameter("\(fieldPath(key))[\(i)]") }
            out.append(ParameterReader(o, path: "\(fieldPath(key))[\(i)]"))
        }
        return out
    }

    /// Fails on the first field that no getter asked for.
    public func finish() throws(VarlinkError) {
        for (i, m) in object.members.enumerated() where !seen[i] { throw .invalidParameter(fieldPath(m.key)) }
    }
}
