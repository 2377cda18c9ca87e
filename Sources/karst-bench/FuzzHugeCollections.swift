import KarstCore

/// The mutator's big inputs that still fit a frame: `dependsOn` with thousands of ids, `labels`
/// with up to 80,000 entries (or fewer long ones), `datacenters` repeated, `Watch` or `Get` with
/// thousands of ids, now and then a `SubmitBatch` of up to 1,000 jobs (rarely: they are stored).
struct FuzzHugeCollections: Sendable {
    let templates: FuzzTemplates

    func apply(_ v: FuzzValue, _ rng: inout SeededRandom) -> FuzzValue {
        let n = rng.pick([100, 1000, 5000, 20_000])
        switch rng.below(11) / 2 {
        case 0:
            return intoSpec(v, "dependsOn", .array((0..<n).map { .string("job-\(n - $0)") }))
        case 1:
            // Up to 80,000 short entries: as many members as a 1 MiB frame holds.
            let value = String(repeating: "v", count: rng.pick([1, 16, 2048]))
            let count = value.count > 16 ? min(n, 400) : rng.chance(0.02) ? 80_000 : n
            return intoSpec(v, "labels", .object((0..<count).map { (key: "l\($0)", value: .string(value)) }))
        case 2:
            let dcs = templates.vocabulary.datacenters
            return intoSpec(v, "datacenters", .array((0..<n).map { .string(dcs[$0 % dcs.count]) }))
        case 3:
            return intoParameters(v, "ids", .array((0..<n).map { .string("job-\($0)") }))
        case 4:
            return intoSpec(v, "name", .string(String(repeating: "n", count: n * 40)))
        default:
            let jobs = (0..<rng.pick([10, 100, 1000])).map { _ in templates.jobSpec(&rng) }
            return v.setting("method", .string("io.karst.Scheduler.SubmitBatch"))
                .setting("parameters", .object([(key: "jobs", value: .array(jobs))]))
        }
    }

    /// Sets `key` in the call's job spec (`parameters.job`, or the first of `parameters.jobs`);
    /// in the parameters themselves when the call has no spec.
    private func intoSpec(_ v: FuzzValue, _ key: String, _ value: FuzzValue) -> FuzzValue {
        let parameters = v["parameters"] ?? .object([])
        if let job = parameters["job"], job.isObject {
            return v.setting("parameters", parameters.setting("job", job.setting(key, value)))
        }
        if case .array(var jobs)? = parameters["jobs"], let first = jobs.first, first.isObject {
            jobs[0] = first.setting(key, value)
            return v.setting("parameters", parameters.setting("jobs", .array(jobs)))
        }
        return intoParameters(v, key, value)
    }

    private func intoParameters(_ v: FuzzValue, _ key: String, _ value: FuzzValue) -> FuzzValue {
        let parameters = v["parameters"].flatMap { $0.isObject ? $0 : nil } ?? .object([])
        return v.setting("parameters", parameters.setting(key, value))
    }
}
