import KarstCore

/// Reads the hub sections of a configuration (`[settings]`, `[scoring]`, `[[regions]]`,
/// `[[classes]]`, `[tenant_defaults]`, `[[tenants]]`, `[[datacenters]]`) and validates them.
struct TopologyReader {
    let sink: IssueSink

    func read(_ root: inout TableReader) -> Topology? {
        let settings = readSettings(&root)
        let scoring = readScoring(&root)
        let regions = readRegions(&root)
        let classes = readClasses(&root)
        let tenantDefaults = root.table("tenant_defaults").map { t -> TenantPolicy in
            var t = t
            return readTenant(&t, id: "*")
        } ?? TenantPolicy(id: "*")
        let tenants = readTenants(&root)
        let datacenters = DatacenterReader(sink: sink, regions: regions).readAll(&root)
        guard !regions.isEmpty, !classes.isEmpty, !datacenters.isEmpty else { return nil }
        return Topology(regions: regions, datacenters: datacenters, classes: classes, tenants: tenants,
                        tenantDefaults: tenantDefaults, scoring: scoring, settings: settings)
    }

    /// `[settings]` over `base` (the defaults, or a configuration's own for an override).
    func readSettings(_ root: inout TableReader, base: SchedulerSettings = SchedulerSettings()) -> SchedulerSettings {
        var s = base
        guard var t = root.table("settings") else { return s }
        typealias B = ConfigBounds
        if let v = t.int("utc_offset_hours", in: B.utcOffsetHours) { s.utcOffsetHours = v }
        if let v = t.number("grid_intensity_kg_per_kwh", in: B.gridIntensity) { s.gridIntensityKgPerKWh = v }
        if let v = t.number("max_duration_seconds", in: B.maxDurationSeconds) { s.maxDurationSeconds = v }
        if let v = t.number("default_duration_seconds", in: B.defaultDurationSeconds) {
            if v <= s.maxDurationSeconds { s.defaultDurationSeconds = v } else {
                t.add("default_duration_seconds", "must be at most max_duration_seconds (\(formatNumber(s.maxDurationSeconds))), not \(formatNumber(v))")
            }
        }
        if let v = t.int("max_consecutive_misses", in: B.misses) { s.maxConsecutiveMisses = v }
        if let v = t.int("max_tenant_misses_per_pass", in: B.misses) { s.maxTenantMissesPerPass = v }
        if let v = t.int("max_preemptions_per_job", in: B.maxPreemptionsPerJob) { s.maxPreemptionsPerJob = v }
        if let v = t.int("pool_preemptions_per_minute", in: B.poolPreemptionsPerMinute) { s.poolPreemptionsPerMinute = v }
        if let v = t.int("backfill_reservations", in: B.backfillReservations) { s.backfillReservations = v }
        if let v = t.number("time_shift_min_saving", in: B.timeShiftMinSaving) { s.timeShiftMinSaving = v }
        if let v = t.number("deadline_slack_seconds", in: B.deadlineSlackSeconds) { s.deadlineSlackSeconds = v }
        var a = s.agentTimeouts
        if let v = t.number("agent_report_interval_seconds", in: B.agentTimeout) { a.reportInterval = v }
        if let v = t.number("agent_suspect_seconds", in: B.agentTimeout) { a.suspect = v }
        if let v = t.number("agent_fence_seconds", in: B.agentTimeout) { a.fence = v }
        if let v = t.number("agent_lost_seconds", in: B.agentTimeout) { a.lost = v }
        if let problem = a.problem { t.add("agent_lost_seconds", "the agent timeouts do not fit together: \(problem)") } else {
            s.agentTimeouts = a
        }
        t.finish()
        return s
    }

    /// `[scoring]` over `base` (the defaults, or a configuration's own for an override).
    func readScoring(_ root: inout TableReader, base: ScoringWeights = ScoringWeights()) -> ScoringWeights {
        var w = base
        guard var t = root.table("scoring") else { return w }
        func weight(_ key: String, _ target: inout Double) {
            if let v = t.number(key, in: ConfigBounds.scoringWeight) { target = v }
        }
        weight("energy", &w.energy)
        weight("carbon", &w.carbon)
        weight("latency", &w.latency)
        weight("packing", &w.packing)
        if let mode = t.string("packing_mode") {
            if let m = PackingMode(rawValue: mode) { w.packingMode = m } else {
                t.add("packing_mode", "must be \"binpack\" or \"spread\", not \"\(mode)\"")
            }
        }
        t.finish()
        return w
    }

    private func readRegions(_ root: inout TableReader) -> [Region] {
        var regions: [Region] = []
        var ids = DuplicateCheck(sink: sink)
        let tables = root.tables("regions", required: true)
        if tables.isEmpty && root.table["regions"] != nil { root.add("regions", "must list at least one region") }
        for var t in tables {
            let id = t.string("id", required: true)
            let name = t.string("name") ?? id
            t.finish()
            if let id, ids.check(id, at: t.keyPath("id")) { regions.append(Region(id: id, name: name ?? id)) }
        }
        return regions
    }

    private func readClasses(_ root: inout TableReader) -> [PriorityClass] {
        var classes: [PriorityClass] = []
        var ids = DuplicateCheck(sink: sink)
        var priorities: [Int: String] = [:]
        for var t in root.tables("classes", required: true) {
            let id = t.string("id", required: true)
            let base = t.int("base_priority", in: ConfigBounds.basePriority, required: true)
            let aging = t.number("aging_per_hour", in: ConfigBounds.agingPerHour) ?? 0
            let canPreempt = t.bool("can_preempt") ?? false
            let preemptible = t.bool("preemptible") ?? false
            let latency = t.number("default_latency_ms", in: ConfigBounds.defaultLatencyMs, required: true)
            if let base, let other = priorities[base] {
                t.add("base_priority", "\(base) is already the base priority of class '\(other)'")
            }
            t.finish()
            guard let id, ids.check(id, at: t.keyPath("id")), let base, let latency else { continue }
            priorities[base] = id
            classes.append(PriorityClass(id: id, basePriority: base, agingPerHour: aging, canPreempt: canPreempt,
                                         preemptibleByDefault: preemptible, defaultLatencyMs: latency))
        }
        return classes
    }

    private func readTenants(_ root: inout TableReader) -> [TenantPolicy] {
        var out: [TenantPolicy] = []
        var ids = DuplicateCheck(sink: sink)
        for var t in root.tables("tenants") {
            let id = t.string("id", required: true)
            let policy = readTenant(&t, id: id ?? "")
            if let id, ids.check(id, at: t.keyPath("id")) { out.append(policy) }
        }
        return out
    }

    private func readTenant(_ t: inout TableReader, id: String) -> TenantPolicy {
        var policy = TenantPolicy(id: id)
        if let w = t.number("weight", in: ConfigBounds.tenantWeight) { policy.weight = w }
        // A quota guarantees only the dimensions it names; a borrow limit caps only those it names.
        if var q = t.table("quota") { policy.quota = readResources(&q, unset: 0) }
        if var b = t.table("borrow_limit") {
            policy.borrowLimit = readResources(&b, unset: nil)
            if policy.quota == nil { t.add("borrow_limit", "needs a quota to borrow above") }
        }
        t.finish()
        return policy
    }

    /// `{ cpu, memory_gib, accelerators }`; a dimension left out is `unset` (nil: unlimited).
    private func readResources(_ q: inout TableReader, unset: Double?) -> Resources {
        let cpu = q.number("cpu", in: ConfigBounds.quotaCPU) ?? unset ?? ConfigBounds.quotaCPU.upperBound
        let mem = q.number("memory_gib", in: ConfigBounds.quotaMemoryGiB) ?? unset ?? ConfigBounds.quotaMemoryGiB.upperBound
        let acc = q.int("accelerators", in: ConfigBounds.poolAccelerators) ?? unset.map { Int($0) }
            ?? ConfigBounds.poolAccelerators.upperBound
        q.finish()
        return Resources(cpu: cpu, memoryGiB: mem, accelerators: acc)
    }
}

/// Reports an id seen twice in one list.
struct DuplicateCheck {
    let sink: IssueSink
    private var firstPath: [String: String] = [:]

    init(sink: IssueSink) { self.sink = sink }

    /// True when `id` is new; otherwise reports it at `path` and returns false.
    mutating func check(_ id: String, at path: String) -> Bool {
        if id.isEmpty {
            sink.add(path, "must not be empty")
            return false
        }
        if let first = firstPath[id] {
            sink.add(path, "duplicate id '\(id)' (first at \(first))")
            return false
        }
        firstPath[id] = path
        return true
    }
}
