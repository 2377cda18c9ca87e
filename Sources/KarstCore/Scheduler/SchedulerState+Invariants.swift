extension SchedulerState {
    /// Recomputes allocation from the running jobs and checks every invariant the state promises.
    /// Returns a description of the first violation, or nil. O(jobs): for tests and `--check-state`.
    public func checkInvariants() -> String? {
        var expected = Array(repeating: Resources.zero, count: allocated.count)
        var tenantUsage = Array(repeating: Resources.zero, count: tenants.usage.count)
        for job in jobs.values {
            let queued = job.state == .pending && unmetDependencies[job.id] == nil
            if queued != queue.contains(job.id) {
                return "\(job.id) is \(job.state.rawValue) but \(queue.contains(job.id) ? "" : "not ")queued"
            }
            guard job.state.holdsCapacity else { continue }
            tenantUsage[job.demand.tenantIndex] += job.demand.total
            guard let ref = job.placement else {
                if job.retiredPool == nil { return "\(job.id) is running without a placement" }
                continue
            }
            for (shard, r) in job.allocations { expected[flatIndex(shard)] += r }
            let g = flatIndex(ref)
            let slot = Int(job.runningSlot)
            if slot < 0 || slot >= running[g].count || running[g][slot].id != job.id {
                return "\(job.id) is running in \(names(of: ref)) but not in its running list"
            }
            if job.shards.count > 1, job.shards.reduce(0, { $0 + $1.replicas }) != job.spec.replicas {
                return "\(job.id) is a partial gang: \(job.shards.map(\.replicas)) of \(job.spec.replicas) replicas"
            }
        }
        for g in allocated.indices {
            let ref = poolRefs[g]
            let cap = topology.datacenters[ref.datacenter].pools[ref.pool].capacity
            if expected[g] != allocated[g] {
                return "pool \(names(of: ref)) allocated \(allocated[g]) but running jobs hold \(expected[g])"
            }
            if !allocated[g].fits(in: cap) || !allocated[g].isNonNegative {
                return "pool \(names(of: ref)) over-committed: \(allocated[g]) of \(cap)"
            }
        }
        if tenantUsage != tenants.usage { return "tenant usage \(tenants.usage) but running jobs hold \(tenantUsage)" }
        let queuedCount = jobs.values.lazy.filter { $0.state == .pending && self.unmetDependencies[$0.id] == nil }.count
        if queue.count != queuedCount { return "queue count mismatch" }
        if running.map(\.count) != runningEnds.map(\.count) { return "end order out of step with running lists" }
        for (g, ends) in runningEnds.enumerated() {
            let sorted = ends.entries
            if zip(sorted, sorted.dropFirst()).contains(where: { !$0.precedes($1.at, $1.job) }) {
                return "end order of pool \(g) is not sorted"
            }
            let ends = Dictionary(sorted.map { ($0.job, $0.at) }, uniquingKeysWith: { a, _ in a })
            for r in running[g] where ends[r.id] != r.release.at {
                return "job \(r.id) missing from the end order of pool \(g)"
            }
        }
        return nil
    }
}
