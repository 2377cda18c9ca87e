extension SchedulerState {
    /// Recomputes allocation from the running jobs and checks every invariant the state promises.
    /// Returns a description of the first violation, or nil. O(jobs): for tests and `--check-state`.
    public func checkInvariants() -> String? {
        var expected = Array(repeating: Resources.zero, count: allocated.count)
        var tenantUsage = Array(repeating: Resources.zero, count: tenants.usage.count)
        for job in jobs.values {
            if (job.state == .pending) != queue.contains(job.id) {
                return "\(job.id) is \(job.state.rawValue) but \(queue.contains(job.id) ? "" : "not ")queued"
            }
            guard job.state == .running else { continue }
            tenantUsage[job.demand.tenantIndex] += job.demand.total
            guard let ref = job.placement else {
                if job.retiredPool == nil { return "\(job.id) is running without a placement" }
                continue
            }
            expected[flatIndex(ref)] += job.demand.total
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
        if queue.count != jobs.values.lazy.filter({ $0.state == .pending }).count { return "queue count mismatch" }
        return nil
    }
}
