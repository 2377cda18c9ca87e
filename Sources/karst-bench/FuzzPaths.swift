/// Addressing nodes inside a `FuzzValue`: a path is the index of a member or item at each level,
/// so the mutator can pick any node, look at the key it sits under, and replace or remove it.
extension FuzzValue {
    /// The paths of every node below this one (not this one itself), depth first; the first
    /// `fanOut` children of a container only and `maxDepth` levels, so that a huge array or a
    /// deep nest does not swamp the choice (or the time it takes).
    func paths(fanOut: Int = 40, maxDepth: Int = 8) -> [[Int]] {
        var out: [[Int]] = []
        collect(prefix: [], fanOut: fanOut, maxDepth: maxDepth, into: &out)
        return out
    }

    private func collect(prefix: [Int], fanOut: Int, maxDepth: Int, into out: inout [[Int]]) {
        guard prefix.count < maxDepth else { return }
        switch self {
        case .array(let items):
            for (i, child) in items.prefix(fanOut).enumerated() {
                out.append(prefix + [i])
                child.collect(prefix: prefix + [i], fanOut: fanOut, maxDepth: maxDepth, into: &out)
            }
        case .object(let members):
            for (i, m) in members.prefix(fanOut).enumerated() {
                out.append(prefix + [i])
                m.value.collect(prefix: prefix + [i], fanOut: fanOut, maxDepth: maxDepth, into: &out)
            }
        default: return
        }
    }

    /// The node at `path`, if there is one.
    func node(at path: ArraySlice<Int>) -> FuzzValue? {
        guard let i = path.first else { return self }
        switch self {
        case .array(let items) where i < items.count: return items[i].node(at: path.dropFirst())
        case .object(let members) where i < members.count: return members[i].value.node(at: path.dropFirst())
        default: return nil
        }
    }

    /// The object key the node at `path` sits under (nil for array items and the root).
    func key(at path: ArraySlice<Int>) -> String? {
        guard let last = path.last, case .object(let members)? = node(at: path.dropLast()), last < members.count else {
            return nil
        }
        return members[last].key
    }

    /// A copy with the node at `path` replaced by `value`, or removed when `value` is nil.
    func replacing(_ path: ArraySlice<Int>, with value: FuzzValue?) -> FuzzValue {
        guard let i = path.first else { return value ?? .null }
        let rest = path.dropFirst()
        switch self {
        case .array(var items) where i < items.count:
            if rest.isEmpty, value == nil { items.remove(at: i) } else { items[i] = items[i].replacing(rest, with: value) }
            return .array(items)
        case .object(var members) where i < members.count:
            if rest.isEmpty, value == nil { members.remove(at: i) } else {
                members[i].value = members[i].value.replacing(rest, with: value)
            }
            return .object(members)
        default: return self
        }
    }

    /// A copy in which every string leaf is passed through `transform` (keys are kept).
    func mappingStrings(_ transform: (String) -> String) -> FuzzValue {
        switch self {
        case .string(let s): .string(transform(s))
        case .array(let items): .array(items.map { $0.mappingStrings(transform) })
        case .object(let members): .object(members.map { (key: $0.key, value: $0.value.mappingStrings(transform)) })
        default: self
        }
    }

    var isNumber: Bool { if case .number = self { true } else { false } }
    var isString: Bool { if case .string = self { true } else { false } }
    var isObject: Bool { if case .object = self { true } else { false } }
}
