extension SchedulerState {
    /// Switches to a new topology and policy without losing or duplicating any job (see
    /// `restore`). Throws, changing nothing, when the new configuration cannot describe a job that
    /// is not finished.
    public mutating func reconfigure(to topology: Topology, now: Instant) throws(SchedulerError) -> ReconfigureReport {
        var (next, report) = try Self.restore(
            topology: topology, records: records, nextJobNumber: nextJobNumber,
            datacenterStates: datacenterStatesByID, tenantOrder: tenants.names)
        // The agents and their leases carry over; only the timeouts are the new configuration's.
        next.agents = agents
        next.agents.reconfigure(timeouts: topology.settings.agentTimeouts)
        next.rebuildNominations()
        self = next
        return report
    }

    /// Rebuilds a live state from stored jobs: after a restart, or under a new configuration.
    ///
    /// - Terminal jobs are kept as they are (their placement looked up by name).
    /// - Pending and held jobs are re-admitted, keeping their submit time (so their aging and
    ///   order are what they were); one that no data centre could hold any more is put on hold
    ///   with the reason in its message and reported.
    /// - Running jobs stay running: they count against their pool if it still exists and has
    ///   room, else they run on outside any pool (`retiredPool`) until they end. Their modelled
    ///   completion is re-armed from their recorded start, so a restart does not restart them.
    ///
    /// Throws `invalidJob` naming the first unfinished job whose class, origin region or
    /// accelerator model the topology does not have: the operator cancels it or keeps the name,
    /// rather than work being dropped silently.
    public static func restore(topology: Topology, records: [JobRecord], nextJobNumber: UInt64,
                               datacenterStates: [String: DatacenterState] = [:],
                               tenantOrder: [String] = []) throws(SchedulerError) -> (SchedulerState, ReconfigureReport) {
        var next = SchedulerState(topology: topology)
        for (id, state) in datacenterStates {
            if let d = topology.datacenterIndex(of: id) { next.datacenterStates[d] = state }
        }
        for name in tenantOrder { _ = next.tenants.intern(name, topology: topology) }
        next.jobs.reserveCapacity(records.count)
        var report = ReconfigureReport()
        var highest: UInt64 = 0
        // By id alone: pairs of records (`zip`) would copy every record twice.
        let inOrder = records.withUnsafeBufferPointer { b in b.indices.dropFirst().allSatisfy { b[$0 - 1].id < b[$0].id } }
        let ordered = inOrder ? records : records.sorted { $0.id < $1.id }
        var leases: [AgentBook.Lease] = []
        var agentDatacenters: [AgentID: String] = [:]
        for r in ordered {
            highest = max(highest, r.id.rawValue)
            try next.adopt(r, report: &report)
            if let l = r.lease, r.state.holdsCapacity, let dc = r.placement?.datacenter {
                let agent = AgentID(l.agent)
                leases.append(AgentBook.Lease(run: RunID(job: r.id, attempt: r.attempts), agent: agent,
                                              phase: l.stop.map { .stopping($0) } ?? .leased, leasedAt: r.startedAt ?? r.submittedAt))
                agentDatacenters[agent] = dc
            }
        }
        if !leases.isEmpty {
            next.agents = AgentBook(timeouts: topology.settings.agentTimeouts, restoring: leases, datacenters: agentDatacenters)
            next.rebuildNominations()
        }
        next.nextJobNumber = max(nextJobNumber, highest == .max ? .max : highest + 1)
        return (next, report)
    }

    private mutating func adopt(_ r: JobRecord, report: inout ReconfigureReport) throws(SchedulerError) {
        let t = tenants.intern(r.tenant, topology: topology)
        var job = Job(id: r.id, spec: r.spec, tenant: r.tenant, submittedAt: r.submittedAt, demand: .unresolved)
        job.state = r.state
        job.startedAt = r.startedAt
        job.finishedAt = r.finishedAt
        job.attempts = r.attempts
        job.preemptions = r.preemptions
        job.message = r.message
        job.retiredPool = r.retiredPool
        job.borrowed = r.borrowed
        job.preemptedBy = r.preemptedBy
        job.deadlineMissed = r.deadlineMissed
        job.lastRun = r.lastRun
        job.pendingReason = r.state == .pending ? .priority : (r.state == .held ? .held : nil)
        job.placement = r.placement.flatMap { n in
            topology.datacenterIndex(of: n.datacenter).flatMap { d in
                topology.poolIndex(of: n.pool, in: d).map { PoolRef(datacenter: d, pool: $0) }
            }
        }
        if let d = job.placement?.datacenter, !r.shards.isEmpty {
            let refs = r.shards.map { s in topology.poolIndex(of: s.pool, in: d).map { PoolShard(pool: PoolRef(datacenter: d, pool: $0), replicas: s.replicas) } }
            if refs.allSatisfy({ $0 != nil }) { job.shards = refs.map { $0! } } else { job.placement = nil }
        }
        if r.state.isTerminal {
            job.demand = (try? Self.buildDemand(for: r.spec, tenantIndex: t, topology: topology)) ?? .unresolved
            jobs[r.id] = job
            return
        }
        do {
            job.demand = try Self.buildDemand(for: r.spec, tenantIndex: t, topology: topology)
        } catch {
            throw .invalidJob(field: "\(r.id)", reason: "the configuration cannot describe this "
                + "\(r.state.rawValue) job: \(error)")
        }
        if !job.demand.total.isCountable || !job.demand.perReplica.isNonNegative || job.demand.replicas < 1 {
            // A size the core cannot count (negative, or beyond any hub: only a damaged or
            // foreign store, or a bound since tightened, has one): it holds no capacity. A running job runs on outside any pool; any other is held.
            job.demand.perReplica = .zero
            job.demand.total = .zero
            job.message = "its stored size (\(r.spec.resources.vector) × \(r.spec.replicas)) cannot be counted"
            if r.state.holdsCapacity {
                job.placement = nil
                job.shards = []
                adoptRunning(&job, oldRef: r.placement, report: &report)
            } else {
                job.state = .held
                job.pendingReason = .held
                jobs[r.id] = job
                report.heldUnschedulable.append(r.id)
            }
            return
        }
        trackDeadline(job)
        if r.state.holdsCapacity {
            adoptRunning(&job, oldRef: r.placement, report: &report)
            return
        }
        do {
            try Self.admit(job.demand, r.spec, topology: topology, ceiling: tenants.ceilings[t], stack: stack,
                           sites: staticSites, rtt: rtt)
            registerDependencies(&job)
            jobs[r.id] = job
            if job.state == .pending { enqueue(job) }
        } catch {
            job.state = .held
            job.pendingReason = .held
            job.message = "held by reconfiguration: \(error)"
            jobs[r.id] = job
            report.heldUnschedulable.append(r.id)
        }
    }

    /// Re-attaches a running job to its pool, or lets it run on outside any.
    private mutating func adoptRunning(_ job: inout Job, oldRef: (datacenter: String, pool: String)?,
                                       report: inout ReconfigureReport) {
        tenants.usage[job.demand.tenantIndex] += job.demand.total
        if let ref = job.placement, job.allocations.allSatisfy({ shard, r in
            (allocated[flatIndex(shard)] + r).fits(in: topology.datacenters[shard.datacenter].pools[shard.pool].capacity)
        }) {
            for (shard, r) in job.allocations { allocated[flatIndex(shard)] += r }
            job.runningSlot = addRunning(job, to: flatIndex(ref))
        } else {
            job.placement = nil
            job.shards = []
            job.retiredPool = oldRef.map { "\($0.datacenter)/\($0.pool)" } ?? job.retiredPool
            report.runningOutsidePools.append(job.id)
        }
        if let started = job.startedAt, let d = job.spec.durationSeconds, !job.spec.runsCommand {
            timers.arm(job.id, attempt: job.attempts, due: started.advanced(bySeconds: d))
        }
        jobs[job.id] = job
    }
}

/// What a reconfiguration or restore did to existing jobs.
public struct ReconfigureReport: Hashable, Sendable {
    /// Pending or held jobs that no data centre could hold under the configuration; now held.
    public var heldUnschedulable: [JobID] = []
    /// Running jobs whose pool was removed or shrank; they run on until they end.
    public var runningOutsidePools: [JobID] = []
}
