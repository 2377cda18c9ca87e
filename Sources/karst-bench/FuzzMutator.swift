import KarstCore

/// Structure-aware damage to a valid call: boundary numbers and hostile strings in its leaves,
/// fields dropped, duplicated, added or of the wrong type, deep nesting, huge arrays and maps,
/// the message flags and the method name changed. Never produces an `Admin.Backup` call from
/// another method, and never a Backup `path` outside the campaign's directory (`sanitized`).
struct FuzzMutator: Sendable {
    let templates: FuzzTemplates

    /// Method names to swap in: every method but Backup, and names that are almost right.
    private var methodNames: [String] {
        templates.methods.map(\.name).filter { $0 != FuzzTemplates.backupMethod } + [
            "", "io.karst.Scheduler", "io.karst.Scheduler.", ".Submit", "io.karst.scheduler.submit", "io.karst.Nope.Get",
            "org.varlink.service.Nope", "io.karst.Scheduler.Submit ", "io.karst.Scheduler.Submit\u{0}", "贵州.Get",
            String(repeating: "io.karst.", count: 500) + "Get",
        ]
    }

    /// `call` with one to three mutations, and their names.
    func mutate(_ call: FuzzValue, _ rng: inout SeededRandom) -> (FuzzValue, [String]) {
        var v = call
        var kinds: [String] = []
        for _ in 0..<rng.int(1...3) {
            let (next, kind) = mutateOnce(v, &rng)
            v = next
            kinds.append(kind)
        }
        return (sanitized(v, original: call, &rng), kinds)
    }

    private func mutateOnce(_ v: FuzzValue, _ rng: inout SeededRandom) -> (FuzzValue, String) {
        let paths = v.paths()
        let path = paths.isEmpty ? [] : rng.pick(paths)
        switch rng.below(100) {
        case 0..<18:
            let numbers = paths.filter { v.node(at: $0[...])?.isNumber == true }
            return (v.replacing((numbers.isEmpty ? path : rng.pick(numbers))[...], with: FuzzScalars.number(&rng)), "number")
        case 18..<34:
            let strings = paths.filter { v.node(at: $0[...])?.isString == true && $0 != [0] }
            return (v.replacing((strings.isEmpty ? path : rng.pick(strings))[...], with: FuzzScalars.string(&rng)), "string")
        case 34..<44: return (v.replacing(path[...], with: nil), "drop")
        case 44..<52: return (duplicate(v, path, &rng), "duplicate")
        case 52..<60: return (addUnknown(v, paths, &rng), "unknown-field")
        case 60..<70: return (v.replacing(path[...], with: FuzzScalars.anyValue(&rng)), "type-swap")
        case 70..<74: return (v.replacing(path[...], with: nested(rng.pick([10, 63, 64, 65, 200, 1000]), &rng)), "deep-nesting")
        case 74..<77: return (FuzzHugeCollections(templates: templates).apply(v, &rng), "huge-collection")
        case 77..<90: return (flag(v, &rng), "flags")
        case 90..<95: return (v.setting("method", .string(rng.pick(methodNames))), "method")
        default: return (v.setting("parameters", rng.chance(0.2) ? .object([]) : FuzzScalars.anyValue(&rng)), "parameters")
        }
    }

    private func duplicate(_ v: FuzzValue, _ path: [Int], _ rng: inout SeededRandom) -> FuzzValue {
        let parent = path.dropLast()
        guard let last = path.last, case .object(var members)? = v.node(at: parent) else { return v }
        let m = members[last]
        members.insert((key: m.key, value: rng.chance(0.5) ? m.value : FuzzScalars.anyValue(&rng)), at: rng.below(members.count + 1))
        return v.replacing(parent, with: .object(members))
    }

    private func addUnknown(_ v: FuzzValue, _ paths: [[Int]], _ rng: inout SeededRandom) -> FuzzValue {
        let objects = [[]] + paths.filter { v.node(at: $0[...])?.isObject == true }
        let at = rng.pick(objects)[...]
        guard case .object(var members)? = v.node(at: at) else { return v }
        let keys = ["unknown", "", "Method", "job", "more", "__proto__", "贵州", "\u{0}", "a\"b", String(repeating: "k", count: 2000)]
        members.append((key: rng.pick(keys), value: FuzzScalars.anyValue(&rng)))
        return v.replacing(at, with: .object(members))
    }

    private func nested(_ depth: Int, _ rng: inout SeededRandom) -> FuzzValue {
        let arrays = rng.chance(0.5)
        var v: FuzzValue = rng.chance(0.5) ? .int(1) : .object([])
        for _ in 0..<depth { v = arrays ? .array([v]) : .object([(key: "a", value: v)]) }
        return v
    }

    private func flag(_ v: FuzzValue, _ rng: inout SeededRandom) -> FuzzValue {
        let name = rng.pick(["more", "oneway", "upgrade", "more", "oneway"])
        switch rng.below(6) {
        case 0: return v.replacing([v.members.firstIndex { $0.key == name } ?? v.members.count][...], with: nil)
        case 1: return v.setting(name, FuzzScalars.anyValue(&rng))
        case 2: return v.setting(name, .null)
        default: return v.setting(name, .bool(v[name].map { if case .bool(true) = $0 { false } else { true } } ?? true))
        }
    }

    /// A Backup call stays a Backup call whose every string is a path inside the campaign's
    /// directory; any other call must not have become one.
    func sanitized(_ v: FuzzValue, original: FuzzValue, _ rng: inout SeededRandom) -> FuzzValue {
        if case .string(FuzzTemplates.backupMethod)? = original["method"] {
            let method = FuzzValue.string(FuzzTemplates.backupMethod)
            return v.mappingStrings { _ in templates.vocabulary.safePath(&rng) }.setting("method", method)
        }
        return Self.mentionsBackup(v.framed) ? original : v
    }

    /// Whether bytes could name the Backup method (checked again after byte damage).
    static func mentionsBackup(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBufferPointer { b in
            guard b.count >= 5 else { return false }
            for i in 0...(b.count - 5) where b[i] == 0x61 && b[i + 1] == 0x63 && b[i + 2] == 0x6B && b[i + 3] == 0x75
                && b[i + 4] == 0x70 { return true }  // "ackup"
            return false
        }
    }
}
