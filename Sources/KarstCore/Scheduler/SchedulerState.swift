/// The whole scheduling state of the hub and the only way to change it.
///
/// A value type with one owner (the daemon's engine, a test, the simulator). Every command takes
/// `now` and returns the events it caused; nothing here reads a clock or performs I/O.
///
/// Invariants, kept by every mutating method:
/// - `allocated[g]` is the sum of the demands of the running jobs placed in pool `g`, and never
///   exceeds that pool's capacity (placement re-checks the fit when a plan is applied).
/// - A job is in `queue` exactly when its state is `pending` and it waits for no dependency
///   (`unmetDependencies` has no entry for it).
/// - `running[g]` lists exactly the running jobs whose (first) placement is pool `g`, and
///   `runningEnds[g]` holds the same jobs by expected end.
/// - `tenants.usage[t]` is the sum of the demands of tenant `t`'s running jobs.
public struct SchedulerState: Sendable {
    public internal(set) var topology: Topology
    public internal(set) var datacenterStates: [DatacenterState]
    /// The site agents and the runs leased to them (data centres whose `executor` is `agents`).
    public internal(set) var agents: AgentBook
    /// Allocation per pool, flattened in data-centre then pool order (see `poolRefs`).
    public internal(set) var allocated: [Resources]
    /// The pool each flattened index stands for.
    public internal(set) var poolRefs: [PoolRef]
    /// First flattened index of each data centre's pools.
    var poolOffsets: [Int]

    var jobs = JobTable<Job>()
    var queue: PendingQueue
    var ordering: QueueOrdering
    var timers = CompletionTimers()
    var tenants = TenantLedger()
    var totalCapacity: Resources
    var rtt: [[Double]]
    var stack: PlacementStack
    /// Every pool with its static figures, for the "could it ever run" check at submission.
    var staticSites: [PoolSite]
    var nextJobNumber: UInt64 = 1
    /// Running jobs per flattened pool (by first placement), with what the preemption victim
    /// search needs to know of them; `Job.runningSlot` is each job's index here.
    var running: [[RunningEntry]]
    /// The same running jobs per pool, sorted by expected end (backfill profiles walk these).
    var runningEnds: [EndOrder]
    /// Pending or held jobs that wait for dependencies: how many have not succeeded yet.
    var unmetDependencies: [JobID: Int] = [:]
    /// For each job others wait for: those jobs.
    var dependents: [JobID: [JobID]] = [:]
    /// Waiting jobs whose dependency failed or was cancelled (with that dependency); the next
    /// pass fails them.
    var doomed: [(job: JobID, cause: JobID)] = []
    /// Jobs with deadlines: who is at risk, who is past due.
    var deadlines = DeadlineBook()
    /// Preemptors waiting for site agents to stop their victims (see `Nomination`).
    var nominations: [JobID: Nomination] = [:]
    /// When each pool last evicted jobs (within the last minute), for the preemption rate limit.
    var recentPreemptions: [[Instant]]
    /// Price and clean-share means for time-shifting, from the topology's curves.
    let shiftCurves: ShiftCurves

    public init(topology: Topology) {
        self.topology = topology
        self.datacenterStates = Array(repeating: .active, count: topology.datacenters.count)
        self.agents = AgentBook(timeouts: topology.settings.agentTimeouts)
        var refs: [PoolRef] = []
        var offsets: [Int] = []
        for (d, dc) in topology.datacenters.enumerated() {
            offsets.append(refs.count)
            for p in dc.pools.indices { refs.append(PoolRef(datacenter: d, pool: p)) }
        }
        self.poolRefs = refs
        self.poolOffsets = offsets
        self.allocated = Array(repeating: .zero, count: refs.count)
        self.running = Array(repeating: [], count: refs.count)
        self.runningEnds = Array(repeating: EndOrder(), count: refs.count)
        self.recentPreemptions = Array(repeating: [], count: refs.count)
        self.queue = PendingQueue(classCount: topology.classes.count)
        self.ordering = QueueOrdering(classes: topology.classes)
        self.totalCapacity = topology.totalCapacity
        self.rtt = topology.datacenters.map(\.rttMs)
        self.stack = PlacementStack(weights: topology.scoring)
        self.staticSites = topology.poolSites(now: Instant(microseconds: 0), states: datacenterStates)
        self.shiftCurves = ShiftCurves(topology.datacenters)
    }

    // MARK: - Views

    /// The job with this id, if the scheduler knows it.
    public func job(_ id: JobID) -> Job? { jobs[id] }

    /// Number of jobs known (in any state).
    public var jobCount: Int { jobs.count }

    /// Number of pending jobs.
    public var pendingCount: Int { queue.count }

    /// Pending jobs per class id.
    public var pendingByClass: [String: Int] {
        let counts = queue.countByClass
        return Dictionary(uniqueKeysWithValues: topology.classes.enumerated().map { ($1.id, counts[$0]) })
    }

    /// Number of running jobs.
    public var runningTotal: Int { running.reduce(0) { $0 + $1.count } }

    /// Jobs matching every given filter, in id order, at most `limit`.
    public func jobs(state: JobState? = nil, tenant: String? = nil, datacenter: String? = nil,
                     limit: Int? = nil) -> [Job] {
        jobPage(state: state, tenant: tenant, datacenter: datacenter, limit: limit).jobs
    }

    /// One page of the jobs matching every given filter, in id order: those after `after` (a
    /// cursor: the last id of the previous page; it need not exist any more), at most `limit`,
    /// and how many more match after them.
    public func jobPage(state: JobState? = nil, tenant: String? = nil, datacenter: String? = nil,
                        after: JobID? = nil, limit: Int? = nil) -> (jobs: [Job], remaining: Int) {
        let dc = datacenter.flatMap { topology.datacenterIndex(of: $0) }
        if datacenter != nil && dc == nil { return ([], 0) }
        // The table holds the jobs in id order: a page is the first `limit` matches, the rest
        // only counted (no copy of a job that is not shown, no sort).
        var page: [Job] = []
        var remaining = 0
        let limit = limit ?? Int.max
        jobs.forEach { id, j in
            guard (after == nil || id > after!) && (state == nil || j.state == state)
                && (tenant == nil || j.tenant == tenant) && (dc == nil || j.placement?.datacenter == dc) else { return }
            if page.count < limit { page.append(j) } else { remaining += 1 }
        }
        return (page, remaining)
    }

    /// The flattened index of a pool.
    func flatIndex(_ ref: PoolRef) -> Int { poolOffsets[ref.datacenter] + ref.pool }

    /// Capacity, allocation and state of every data centre and pool.
    public var usage: [DatacenterUsage] {
        topology.datacenters.enumerated().map { d, dc in
            DatacenterUsage(
                id: dc.id, state: datacenterStates[d],
                pools: dc.pools.enumerated().map { p, pool in
                    let g = poolOffsets[d] + p
                    return PoolUsage(id: pool.id, acceleratorModel: pool.acceleratorModel,
                                     capacity: pool.capacity, allocated: allocated[g],
                                     running: running[g].count)
                })
        }
    }

    /// Each tenant's allocation and weighted dominant share, in first-seen order.
    public var tenantShares: [TenantShare] {
        tenants.names.indices.map { i in
            TenantShare(tenant: tenants.names[i], weight: tenants.weights[i], usage: tenants.usage[i],
                        dominantShare: tenants.usage[i].dominantShare(of: totalCapacity))
        }
    }

    /// The ids of the pool's data centre and the pool itself.
    public func names(of ref: PoolRef) -> (datacenter: String, pool: String) {
        let dc = topology.datacenters[ref.datacenter]
        return (dc.id, dc.pools[ref.pool].id)
    }

    /// When the modelled executor next completes a job, if any job has a duration.
    public var nextCompletion: Instant? {
        switch (timers.nextDue, agents.nextDeadline) {
        case (let a?, let b?): min(a, b)
        case (let a, let b): a ?? b
        }
    }
}

/// A data centre's state and the use of its pools.
public struct DatacenterUsage: Hashable, Sendable {
    public var id: String
    public var state: DatacenterState
    public var pools: [PoolUsage]
}

/// A pool's capacity and how much of it running jobs hold.
public struct PoolUsage: Hashable, Sendable {
    public var id: String
    public var acceleratorModel: String?
    public var capacity: Resources
    public var allocated: Resources
    public var running: Int
    public var free: Resources { capacity - allocated }
}

/// A tenant's allocation and fair-share position.
public struct TenantShare: Hashable, Sendable {
    public var tenant: String
    public var weight: Double
    public var usage: Resources
    /// Unweighted dominant share of the hub's total capacity.
    public var dominantShare: Double
}
