extension SchedulerState {
    /// Switches to a new topology and policy without losing or duplicating any job.
    ///
    /// - Terminal jobs are kept as they are (their placement is looked up again by name).
    /// - Pending and held jobs are re-admitted under the new configuration; one that no data
    ///   centre could hold any more is put on hold with the reason in its message and reported.
    /// - Running jobs stay running. If their pool still exists and has room they count against it;
    ///   if the pool was removed (or shrank below what runs there) they run on outside any pool
    ///   (`retiredPool`) until they end.
    ///
    /// Throws `invalidJob` naming the first non-terminal job whose class, origin region or
    /// accelerator model the new configuration no longer has: the operator cancels it or keeps
    /// the name, rather than a reload silently dropping work.
    public mutating func reconfigure(to topology: Topology, now: Instant) throws(SchedulerError) -> ReconfigureReport {
        var next = SchedulerState(topology: topology)
        next.nextJobNumber = nextJobNumber
        for (d, dc) in self.topology.datacenters.enumerated() {
            if let nd = topology.datacenterIndex(of: dc.id) { next.datacenterStates[nd] = datacenterStates[d] }
        }
        // Tenants in the same order, so fairness history and indices carry over.
        for name in tenants.names { _ = next.tenants.intern(name, topology: topology) }
        var report = ReconfigureReport()
        var failure: SchedulerError? = nil
        jobs.forEach { id, old in
            guard failure == nil else { return }
            var job = old
            let oldRef = old.placement.map { names(of: $0) }
            job.placement = oldRef.flatMap { n in
                topology.datacenterIndex(of: n.datacenter).flatMap { d in
                    topology.poolIndex(of: n.pool, in: d).map { PoolRef(datacenter: d, pool: $0) }
                }
            }
            if old.state.isTerminal {
                next.jobs[id] = job
                return
            }
            let t = next.tenants.intern(old.tenant, topology: topology)
            do {
                job.demand = try Self.buildDemand(for: old.spec, tenantIndex: t, topology: topology)
            } catch {
                failure = .invalidJob(field: "\(id)", reason: "the new configuration cannot describe this "
                    + "\(old.state.rawValue) job: \(error)")
                return
            }
            switch old.state {
            case .running:
                next.adoptRunning(&job, oldRef: oldRef, report: &report, now: now)
            case .pending, .held:
                do {
                    job.demand = try Self.demand(for: old.spec, tenantIndex: t, topology: topology,
                                                 quota: next.tenants.quotas[t], stack: next.stack,
                                                 sites: next.staticSites, rtt: next.rtt)
                    next.jobs[id] = job
                    if job.state == .pending { next.enqueue(job) }
                } catch {
                    job.state = .held
                    job.pendingReason = .held
                    job.message = "held by reload: \(error)"
                    next.jobs[id] = job
                    report.heldUnschedulable.append(id)
                }
            default: break
            }
        }
        if let failure { throw failure }
        self = next
        return report
    }

    /// Re-attaches a running job to its pool under the new topology, or lets it run on outside any.
    private mutating func adoptRunning(_ job: inout Job, oldRef: (datacenter: String, pool: String)?,
                                       report: inout ReconfigureReport, now: Instant) {
        tenants.usage[job.demand.tenantIndex] += job.demand.total
        if let ref = job.placement,
           (allocated[flatIndex(ref)] + job.demand.total).fits(in: topology.datacenters[ref.datacenter].pools[ref.pool].capacity) {
            let g = flatIndex(ref)
            allocated[g] += job.demand.total
            runningCount[g] += 1
        } else {
            job.placement = nil
            job.retiredPool = oldRef.map { "\($0.datacenter)/\($0.pool)" } ?? job.retiredPool
            report.runningOutsidePools.append(job.id)
        }
        if let started = job.startedAt, let d = job.spec.durationSeconds {
            timers.arm(job.id, attempt: job.attempts, due: started.advanced(bySeconds: d))
        }
        jobs[job.id] = job
    }
}

/// What a reconfiguration did to existing jobs.
public struct ReconfigureReport: Hashable, Sendable {
    /// Pending or held jobs that no data centre could hold under the new configuration; now held.
    public var heldUnschedulable: [JobID] = []
    /// Running jobs whose pool was removed or shrank; they run on until they end.
    public var runningOutsidePools: [JobID] = []
}
