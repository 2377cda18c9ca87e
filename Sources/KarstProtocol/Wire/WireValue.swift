/// A value of the control protocol, read from and written to JSON as the IDL types it.
///
/// The generated wire types (Generated/, made by `karst-idlgen` from the `.varlink` files) are
/// built from these conformances: `bool`, `int`, `float`, `string` and `object` of the IDL are
/// `Bool`, `Int`, `Double`, `String` and `JSONValue`; `[]T` is an array and `[string]T` a
/// dictionary of them. Every read failure is `org.varlink.service.InvalidParameter` naming the
/// full path of the value (`job.resources.cpu`, `jobs[3].origin`).
public protocol WireValue: Sendable {
    /// Reads a value at `path`. `strict`: a member no field of a struct names is an error (call
    /// parameters); otherwise it is skipped (replies, so an older client reads a newer daemon).
    init(wire value: JSONValue, path: WirePath, strict: Bool) throws(VarlinkError)
    /// Writes the value as JSON.
    func write(to w: inout JSONWriter)
    /// The value as a JSON tree (error parameters, hand-built calls).
    var json: JSONValue { get }
}

/// Where a value sits in a message, spelled out only when an error names it.
public struct WirePath: Sendable, CustomStringConvertible {
    private let parent: String
    private let key: String?
    private let index: Int?

    /// The top of a message's parameters.
    public static let root = WirePath(parent: "", key: nil, index: nil)

    fileprivate init(parent: String, key: String?, index: Int?) {
        self.parent = parent
        self.key = key
        self.index = index
    }

    /// A path given as text (`job`, `jobs[2]`).
    public init(_ text: String) { self.init(parent: text, key: nil, index: nil) }

    /// Member `key` of the object whose path is `parent` (already spelled out: a struct spells
    /// its own path once, not once per field).
    public init(parent: String, key: String) { self.init(parent: parent, key: key, index: nil) }

    /// A member of the object at this path.
    public func member(_ key: String) -> WirePath { WirePath(parent: description, key: key, index: nil) }

    /// An element of the array at this path.
    public func element(_ index: Int) -> WirePath { WirePath(parent: description, key: nil, index: index) }

    public var description: String {
        if let key { return parent.isEmpty ? key : "\(parent).\(key)" }
        if let index { return "\(parent)[\(index)]" }
        return parent
    }

    /// The `InvalidParameter` error for this path.
    public var invalid: VarlinkError { .invalidParameter(description) }
}

extension Bool: WireValue {
    public init(wire value: JSONValue, path: WirePath, strict: Bool) throws(VarlinkError) {
        guard case .bool(let b) = value else { throw path.invalid }
        self = b
    }
    public func write(to w: inout JSONWriter) { w.bool(self) }
    public var json: JSONValue { .bool(self) }
}

extension Int: WireValue {
    /// An integer: a JSON number with no fraction, within ±9·10¹⁵ (exact in a double).
    public init(wire value: JSONValue, path: WirePath, strict: Bool) throws(VarlinkError) {
        guard case .number(let n) = value, n == n.rounded(), abs(n) < 9e15 else { throw path.invalid }
        self = Int(n)
    }
    public func write(to w: inout JSONWriter) { w.number(self) }
    public var json: JSONValue { .number(Double(self)) }
}

extension Double: WireValue {
    public init(wire value: JSONValue, path: WirePath, strict: Bool) throws(VarlinkError) {
        guard case .number(let n) = value else { throw path.invalid }
        self = n
    }
    public func write(to w: inout JSONWriter) { w.number(self) }
    public var json: JSONValue { .number(self) }
}

extension String: WireValue {
    public init(wire value: JSONValue, path: WirePath, strict: Bool) throws(VarlinkError) {
        guard case .string(let s) = value else { throw path.invalid }
        self = s
    }
    public func write(to w: inout JSONWriter) { w.string(self) }
    public var json: JSONValue { .string(self) }
}

extension JSONValue: WireValue {
    /// The IDL's `object`: any JSON object.
    public init(wire value: JSONValue, path: WirePath, strict: Bool) throws(VarlinkError) {
        guard case .object = value else { throw path.invalid }
        self = value
    }
    public func write(to w: inout JSONWriter) { w.value(self) }
    public var json: JSONValue { self }
}

extension Array: WireValue where Element: WireValue {
    public init(wire value: JSONValue, path: WirePath, strict: Bool) throws(VarlinkError) {
        guard case .array(let items) = value else { throw path.invalid }
        var out: [Element] = []
        out.reserveCapacity(items.count)
        let base = path.description
        for (i, item) in items.enumerated() {
            out.append(try Element(wire: item, path: WirePath(parent: base, key: nil, index: i), strict: strict))
        }
        self = out
    }
    public func write(to w: inout JSONWriter) {
        w.beginArray()
        for e in self { e.write(to: &w) }
        w.endArray()
    }
    public var json: JSONValue { .array(map(\.json)) }
}

extension Dictionary: WireValue where Key == String, Value: WireValue {
    public init(wire value: JSONValue, path: WirePath, strict: Bool) throws(VarlinkError) {
        guard case .object(let o) = value else { throw path.invalid }
        var out: [String: Value] = [:]
        out.reserveCapacity(o.members.count)
        let base = path.description
        for m in o.members { out[m.key] = try Value(wire: m.value, path: WirePath(parent: base, key: m.key), strict: strict) }
        self = out
    }
    /// Keys in sorted order: the same map is always the same bytes.
    public func write(to w: inout JSONWriter) {
        w.beginObject()
        for k in keys.sorted() {
            w.key(k)
            self[k]!.write(to: &w)
        }
        w.endObject()
    }
    public var json: JSONValue { .object(JSONObject(keys.sorted().map { (key: $0, value: self[$0]!.json) })) }
}

/// What every generated struct offers besides `WireValue`: reading from an object directly.
public protocol WireStruct: WireValue, Hashable {
    /// Reads the struct from an object's members at `path`.
    init(object: JSONObject, path: WirePath, strict: Bool) throws(VarlinkError)
}

extension WireStruct {
    public init(wire value: JSONValue, path: WirePath, strict: Bool) throws(VarlinkError) {
        guard case .object(let o) = value else { throw path.invalid }
        try self.init(object: o, path: path, strict: strict)
    }

    /// The struct as a JSON object (for hand-built calls and error parameters).
    public var jsonObject: JSONObject {
        guard case .object(let o) = json else { return [:] }
        return o
    }

    /// The struct's encoding alone.
    public var encoded: [UInt8] {
        var w = JSONWriter(capacity: 256)
        write(to: &w)
        return w.bytes
    }
}

/// A method of an interface: its full name and the types of its input and output.
public protocol VarlinkMethod {
    associatedtype Parameters: WireStruct
    associatedtype Reply: WireStruct
    /// Fully qualified: `io.karst.Scheduler.Submit`.
    static var name: String { get }
}

/// An error an interface declares: its full name and parameters.
public protocol VarlinkErrorType: WireStruct, Error {
    /// Fully qualified: `io.karst.Scheduler.NoSuchJob`.
    static var name: String { get }
}

extension VarlinkErrorType {
    /// The error as sent in a reply.
    public var varlinkError: VarlinkError { VarlinkError(Self.name, jsonObject) }

    /// Reads the error from a reply, if it is this one.
    public init?(_ error: VarlinkError) {
        guard error.name == Self.name,
              let e = try? Self(object: error.parameters, path: .root, strict: false) else { return nil }
        self = e
    }
}

extension JSONWriter {
    /// An array of strings.
    public mutating func strings(_ values: [String]) {
        beginArray()
        for v in values { string(v) }
        endArray()
    }
}
