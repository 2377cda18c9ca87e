/// A job as it is stored: everything but the scheduler's interned view, with its placement by
/// name (indices change when the topology does). `SchedulerState.restore` turns records back
/// into a live state.
public struct JobRecord: Hashable, Sendable {
    public var id: JobID
    public var spec: JobSpec
    public var tenant: String
    public var state: JobState
    public var submittedAt: Instant
    public var startedAt: Instant?
    public var finishedAt: Instant?
    /// Data centre and pool of the current (or last) run.
    public var placement: (datacenter: String, pool: String)?
    public var retiredPool: String?
    public var attempts: Int
    public var preemptions: Int
    public var message: String?
    /// A split gang's pools (by name) and replicas; empty when it ran whole in `placement`.
    public var shards: [(pool: String, replicas: Int)] = []
    public var borrowed = false
    public var preemptedBy: [JobID] = []
    public var deadlineMissed = false
    /// The site agent its current run is leased to, and why it is stopping (if it is). Its
    /// started/running phase is not kept: after a restart the agent reports it again.
    public var lease: (agent: String, stop: AgentBook.StopReason?)?
    /// Where its latest run on a site agent ran.
    public var lastRun: RunPlace?

    public init(id: JobID, spec: JobSpec, tenant: String, state: JobState, submittedAt: Instant,
                startedAt: Instant? = nil, finishedAt: Instant? = nil, placement: (datacenter: String, pool: String)? = nil,
                retiredPool: String? = nil, attempts: Int = 0, preemptions: Int = 0, message: String? = nil) {
        self.id = id
        self.spec = spec
        self.tenant = tenant
        self.state = state
        self.submittedAt = submittedAt
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.placement = placement
        self.retiredPool = retiredPool
        self.attempts = attempts
        self.preemptions = preemptions
        self.message = message
    }

    public static func == (a: JobRecord, b: JobRecord) -> Bool {
        a.id == b.id && a.spec == b.spec && a.tenant == b.tenant && a.state == b.state && a.submittedAt == b.submittedAt
            && a.startedAt == b.startedAt && a.finishedAt == b.finishedAt && a.placement?.datacenter == b.placement?.datacenter
            && a.placement?.pool == b.placement?.pool && a.retiredPool == b.retiredPool && a.attempts == b.attempts
            && a.preemptions == b.preemptions && a.message == b.message
            && a.shards.map(\.pool) == b.shards.map(\.pool) && a.shards.map(\.replicas) == b.shards.map(\.replicas)
            && a.borrowed == b.borrowed && a.preemptedBy == b.preemptedBy && a.deadlineMissed == b.deadlineMissed
            && a.lease?.agent == b.lease?.agent && a.lease?.stop == b.lease?.stop && a.lastRun == b.lastRun
    }

    public func hash(into h: inout Hasher) {
        h.combine(id)
        h.combine(state)
    }
}

extension SchedulerState {
    /// The stored form of a job this state knows.
    public func record(of job: Job) -> JobRecord {
        var r = JobRecord(id: job.id, spec: job.spec, tenant: job.tenant, state: job.state, submittedAt: job.submittedAt,
                          startedAt: job.startedAt, finishedAt: job.finishedAt, placement: job.placement.map { names(of: $0) },
                          retiredPool: job.retiredPool, attempts: job.attempts, preemptions: job.preemptions, message: job.message)
        r.shards = job.shards.map { (names(of: $0.pool).pool, $0.replicas) }
        r.borrowed = job.borrowed
        r.preemptedBy = job.preemptedBy
        r.deadlineMissed = job.deadlineMissed
        r.lastRun = job.lastRun
        if let lease = agents.lease(of: job.id), lease.run.attempt == job.attempts {
            r.lease = (lease.agent.name, lease.stopReason)
        }
        return r
    }

    /// Every job's stored form, in id order.
    public var records: [JobRecord] {
        var out: [JobRecord] = []
        out.reserveCapacity(jobs.count)
        jobs.forEach { _, job in out.append(record(of: job)) }
        return out
    }

    /// The data centre states by id (what a store keeps).
    public var datacenterStatesByID: [String: DatacenterState] {
        Dictionary(uniqueKeysWithValues: topology.datacenters.enumerated().map { ($1.id, datacenterStates[$0]) })
    }

    /// The next job number (what a store keeps, so ids are never reused).
    public var nextJobNumberValue: UInt64 { nextJobNumber }
}
