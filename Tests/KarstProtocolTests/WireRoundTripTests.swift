import KarstProtocol
import Testing

/// Every struct of every served interface, read from JSON with each of its fields present and
/// written back: the generated wire types carry every field of the IDL, under its IDL name.
@Suite struct WireRoundTripTests {
    /// The generated structs of each interface; a new interface must be added here.
    static let generated: [String: [String: any WireStruct.Type]] = [
        "io.karst.Scheduler": SchedulerInterface.structs,
        "io.karst.Admin": AdminInterface.structs,
        "io.karst.Agent": AgentInterface.structs,
        "io.karst.Protocol": ProtocolInterface.structs,
        "org.varlink.service": ServiceInterface.structs,
    ]

    @Test func everyInterfaceHasGeneratedTypes() {
        #expect(Set(Self.generated.keys) == Set(EmbeddedInterfaces.descriptions.keys))
    }

    @Test(arguments: EmbeddedInterfaces.descriptions.keys.sorted())
    func everyFieldRoundTrips(_ name: String) throws {
        let idl = try VarlinkInterface(parsing: EmbeddedInterfaces.descriptions[name]!)
        let types = try #require(Self.generated[name])
        var checked = 0
        for (structName, fields) in Self.structs(of: idl) {
            let type = try #require(types[structName], "no generated type for \(name).\(structName)")
            let full = Self.sample(fields: fields, idl)
            let value = try type.init(object: full, path: .root, strict: true)
            // Written back: the same members, in the IDL's order, with the same values.
            #expect(try JSONParser.parse(value.encoded) == .object(full), "\(name).\(structName)")
            #expect(value.json == .object(full), "\(name).\(structName)")
            // Each required field, left out, is named as missing; an unknown member is refused
            // in a call and skipped in a reply.
            for f in fields where !Self.isOptional(f.type) {
                var partial = full
                partial[f.name] = nil
                #expect(throws: VarlinkError.invalidParameter(f.name)) { try type.init(object: partial, path: .root, strict: true) }
            }
            var extra = full
            extra["noSuchField"] = .bool(true)
            #expect(throws: VarlinkError.invalidParameter("noSuchField")) { try type.init(object: extra, path: .root, strict: true) }
            #expect(try type.init(object: extra, path: .root, strict: false).json == .object(full))
            checked += 1
        }
        #expect(checked == types.count, "\(name): \(types.count) generated structs, \(checked) in the IDL")
    }

    @Test func errorsNameTheFullPath() {
        let job: JSONObject = ["origin": .string("gba"), "priorityClass": .string("batch"),
                               "resources": .object(["cpu": .string("four"), "memoryGiB": .number(1)])]
        #expect(throws: VarlinkError.invalidParameter("job.resources.cpu")) {
            try SchedulerInterface.Submit.Parameters(object: ["job": .object(job)], path: .root, strict: true)
        }
        var good = job
        good["resources"] = .object(["cpu": .number(4), "memoryGiB": .number(1)])
        #expect(throws: VarlinkError.invalidParameter("jobs[1]")) {
            try SchedulerInterface.SubmitBatch.Parameters(object: ["jobs": .array([.object(good), .number(3)])],
                                                          path: .root, strict: true)
        }
        // null is absent: fine for an optional field, missing for a required one.
        #expect(throws: VarlinkError.invalidParameter("id")) {
            try SchedulerInterface.Get.Parameters(object: ["id": .null], path: .root, strict: true)
        }
        #expect((try? SchedulerInterface.List.Parameters(object: ["limit": .null], path: .root, strict: true))?.limit == nil)
        #expect(throws: VarlinkError.invalidParameter("limit")) {
            try SchedulerInterface.List.Parameters(object: ["limit": .number(1.5)], path: .root, strict: true)
        }
    }

    // MARK: - Samples from the IDL

    /// Every struct of the interface: named types, each method's input and output, each error.
    static func structs(of idl: VarlinkInterface) -> [(String, [VarlinkInterface.Field])] {
        var out: [(String, [VarlinkInterface.Field])] = []
        for m in idl.members {
            switch m.kind {
            case .type:
                if case .structure(let fields)? = idl.types[m.name] { out.append((m.name, fields)) }
            case .method:
                out.append(("\(m.name).Parameters", idl.methods[m.name]!.input))
                out.append(("\(m.name).Reply", idl.methods[m.name]!.output))
            case .error:
                out.append((m.name, idl.errors[m.name]!))
            }
        }
        return out
    }

    static func isOptional(_ t: VarlinkInterface.TypeSpec) -> Bool {
        if case .optional = t { return true }
        return false
    }

    /// An object with every field present, each value distinct enough to catch a swapped field.
    static func sample(fields: [VarlinkInterface.Field], _ idl: VarlinkInterface, depth: Int = 0) -> JSONObject {
        JSONObject(fields.enumerated().map { i, f in (key: f.name, value: sample(f.type, idl, seed: i + 10 * depth, depth)) })
    }

    static func sample(_ t: VarlinkInterface.TypeSpec, _ idl: VarlinkInterface, seed: Int, _ depth: Int) -> JSONValue {
        switch t {
        case .bool: return .bool(seed % 2 == 0)
        case .int: return .number(Double(seed + 1))
        case .float: return .number(Double(seed) + 0.5)
        case .string: return .string("s\(seed)")
        case .object: return .object(["k": .string("v\(seed)")])
        case .optional(let e): return sample(e, idl, seed: seed, depth)
        case .array(let e): return .array([sample(e, idl, seed: seed, depth), sample(e, idl, seed: seed + 1, depth)])
        case .map(let e): return .object(["a": sample(e, idl, seed: seed, depth), "b": sample(e, idl, seed: seed + 1, depth)])
        case .named(let n):
            switch idl.types[n] {
            case .structure(let fields)?: return .object(sample(fields: fields, idl, depth: depth + 1))
            case .enumeration(let cases)?: return .string(cases[seed % cases.count])
            default: return .null
            }
        case .structure(let fields): return .object(sample(fields: fields, idl, depth: depth + 1))
        case .enumeration(let cases): return .string(cases[seed % cases.count])
        }
    }
}
