extension SchedulerState {
    /// What would happen to `spec` if it were submitted now and were first in line: the job it
    /// would become (not stored), the pool it would start in, or why it would wait. Changes nothing.
    public func dryRun(_ spec: JobSpec, now: Instant) throws(SchedulerError) -> DryRun {
        var scratch = tenants
        let tenant = spec.tenant ?? "default"
        let t = scratch.intern(tenant, topology: topology)
        let d = try Self.demand(for: spec, tenantIndex: t, topology: topology, quota: scratch.quotas[t],
                                stack: stack, sites: staticSites, rtt: rtt)
        var resolved = spec
        resolved.tenant = tenant
        var job = Job(id: JobID(nextJobNumber), spec: resolved, tenant: tenant, submittedAt: now, demand: d)
        if let nb = spec.notBefore, now < nb {
            job.pendingReason = .window(opens: nb)
            return DryRun(job: job, pool: nil, estimate: nil)
        }
        if let quota = scratch.quotas[t], let r = (scratch.usage[t] + d.total).firstExceeded(quota) {
            job.pendingReason = .quota(resource: r)
            return DryRun(job: job, pool: nil, estimate: nil)
        }
        let sites = topology.poolSites(now: now, states: datacenterStates)
        let free = zip(sites, allocated).map { $0.capacity - $1 }
        var stack = self.stack
        switch stack.choose(d, sites: sites, free: free, rtt: rtt) {
        case .placed(let g, let estimate):
            job.pendingReason = nil
            return DryRun(job: job, pool: sites[g].ref, estimate: estimate)
        case .blocked(let stage, let nearest):
            job.pendingReason = reason(stage, nearest, d, sites)
            return DryRun(job: job, pool: nil, estimate: nil)
        }
    }
}

/// The answer of `SchedulerState.dryRun`.
public struct DryRun: Sendable {
    /// The job as it would be accepted (its id is the one the next submission gets).
    public var job: Job
    /// Where it would start now, if anywhere.
    public var pool: PoolRef?
    public var estimate: PlacementEstimate?
}
