import KarstClient
import KarstCore
import KarstProtocol

/// Valid calls of every method the daemon serves, built from the interface descriptions the
/// daemon itself serves (`org.varlink.service.GetInfo`, `GetInterfaceDescription`): every
/// required field and some optional ones, each with a value `FuzzVocabulary` knows is sensible.
struct FuzzTemplates: Sendable {
    /// One method and what its input looks like.
    struct Method: Sendable {
        /// Qualified: `io.karst.Scheduler.Submit`.
        let name: String
        let input: [VarlinkInterface.Field]
        let types: [String: VarlinkInterface.TypeSpec]
    }

    static let backupMethod = "io.karst.Admin.Backup"
    static let watchMethod = "io.karst.Scheduler.Watch"

    let methods: [Method]
    let vocabulary: FuzzVocabulary

    /// Asks the daemon at `socket` for its interfaces.
    static func load(socket: String, backupDirectory: String) throws -> FuzzTemplates {
        let c = try VarlinkConnection(path: socket)
        defer { c.close() }
        c.setReceiveTimeout(seconds: 10)
        let names = try c.call("org.varlink.service.GetInfo")["interfaces"]?.arrayValue?.compactMap(\.stringValue) ?? []
        var methods: [Method] = []
        for name in names {
            let reply = try c.call("org.varlink.service.GetInterfaceDescription", ["interface": .string(name)])
            let interface = try VarlinkInterface(parsing: reply["description"]?.stringValue ?? "")
            for m in interface.methods.values.sorted(by: { $0.name < $1.name }) {
                methods.append(Method(name: name + "." + m.name, input: m.input, types: interface.types))
            }
        }
        return FuzzTemplates(methods: methods, vocabulary: FuzzVocabulary(interfaces: names, backupDirectory: backupDirectory))
    }

    /// The streaming methods: called with `"more": true`.
    static let streamingMethods: Set<String> = [watchMethod, "io.karst.Agent.Connect"]

    /// A valid call of `m`: `{"method": …, "parameters": {…}}`, with `"more": true` for a
    /// streaming method (`Watch`, an agent's `Connect`).
    func call(_ m: Method, _ rng: inout SeededRandom) -> FuzzValue {
        var members: [(key: String, value: FuzzValue)] = [("method", .string(m.name)), ("parameters", fields(m.input, m.types, &rng))]
        if Self.streamingMethods.contains(m.name) { members.append(("more", .bool(true))) }
        return .object(members)
    }

    /// A valid job spec (for the mutator's huge `SubmitBatch`).
    func jobSpec(_ rng: inout SeededRandom) -> FuzzValue {
        guard let submit = methods.first(where: { $0.name == "io.karst.Scheduler.Submit" }),
              let spec = submit.input.first(where: { $0.name == "job" }) else { return .object([]) }
        return value(spec.name, spec.type, submit.types, &rng)
    }

    private func fields(_ fields: [VarlinkInterface.Field], _ types: [String: VarlinkInterface.TypeSpec],
                        _ rng: inout SeededRandom) -> FuzzValue {
        let v = FuzzValue.object(fields.compactMap { f -> (key: String, value: FuzzValue)? in
            if case .optional = f.type, !rng.chance(0.3) { return nil }
            return (f.name, value(f.name, f.type, types, &rng))
        })
        // A model needs accelerators to use.
        return v["acceleratorModel"] == nil ? v : v.setting("accelerators", .int(1))
    }

    private func value(_ field: String, _ type: VarlinkInterface.TypeSpec, _ types: [String: VarlinkInterface.TypeSpec],
                       _ rng: inout SeededRandom) -> FuzzValue {
        switch type {
        case .optional(let t): return value(field, t, types, &rng)
        case .bool: return .bool(rng.chance(0.5))
        case .int, .float: return .number(vocabulary.number(field, &rng))
        case .string: return .string(vocabulary.string(field, &rng) ?? "fuzz")
        case .enumeration(let cases): return .string(rng.pick(cases))
        case .object: return .object([])
        case .named(let n): return types[n].map { value(field, $0, types, &rng) } ?? .object([])
        case .structure(let fs): return fields(fs, types, &rng)
        case .array(let t):
            return vocabulary.array(field, &rng) ?? .array((0..<rng.int(1...3)).map { _ in value(field, t, types, &rng) })
        case .map(let t):
            return .object((0..<rng.int(0...3)).map { (key: "k\($0)", value: value(field, t, types, &rng)) })
        }
    }
}
