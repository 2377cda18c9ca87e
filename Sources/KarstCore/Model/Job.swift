/// A job as the scheduler tracks it: the spec, where it is in its life, where it runs.
public struct Job: Hashable, Sendable {
    public let id: JobID
    public var spec: JobSpec
    /// The tenant charged for it (the spec's tenant, resolved at submission).
    public var tenant: String
    public var state: JobState
    // (The small fields sit together here: a million-job table pays for padding.)
    /// Placed while its tenant was above its quota (or has none): the capacity is borrowed and a
    /// tenant working within its quota may reclaim it by preemption.
    public var borrowed = false
    /// The `deadline-missed` event has been emitted for it.
    public var deadlineMissed = false
    public var submittedAt: Instant
    /// When the current (or last) run started.
    public var startedAt: Instant?
    public var finishedAt: Instant?
    /// Where the current (or last) run was placed.
    public var placement: PoolRef?
    /// `datacenter/pool` of a run that continues in a pool a reload removed (or shrank below
    /// what runs there); `placement` is nil then and no pool counts its resources.
    public var retiredPool: String?
    /// Why it is pending; nil when not pending.
    public var pendingReason: PendingReason?
    /// Runs started so far.
    public var attempts: Int
    /// Times this job was preempted (evicted for a higher class).
    public var preemptions: Int
    /// The executor's message for the last completion, if any.
    public var message: String?
    /// A gang split over several pools of one data centre: each pool and its replicas, the first
    /// being `placement`. Empty when the whole job runs in `placement`.
    public var shards: [PoolShard] = []
    /// The jobs that preempted this one, oldest first (at most `maxPreemptionsPerJob`): this job
    /// never preempts any of them in turn, so preemption never cycles.
    public var preemptedBy: [JobID] = []
    /// Where its latest run on a site agent ran (agent, site id, output, limits).
    public var lastRun: RunPlace?
    /// When the last pass expects it to start (reservation, time shift, window); nil if unknown.
    public internal(set) var estimatedStart: Instant?
    /// Its index in its pool's list of running jobs (see `SchedulerState.running`).
    var runningSlot: Int32 = -1
    /// Precomputed, interned form of the spec that the scheduling pass reads.
    var demand: Demand

    init(id: JobID, spec: JobSpec, tenant: String, submittedAt: Instant, demand: Demand) {
        self.id = id
        self.spec = spec
        self.tenant = tenant
        self.state = .pending
        self.submittedAt = submittedAt
        self.attempts = 0
        self.preemptions = 0
        self.demand = demand
        self.pendingReason = .priority
    }

    /// The whole gang's resources (per-replica request × replicas).
    public var totalResources: Resources { demand.total }

    /// Whether this job may be preempted.
    public var isPreemptible: Bool { demand.preemptible }

    /// What the job holds in each pool while it runs: its shards, or its whole demand in
    /// `placement`.
    var allocations: [(pool: PoolRef, resources: Resources)] {
        if !shards.isEmpty { return shards.map { ($0.pool, demand.perReplica.scaled(by: $0.replicas)) } }
        return placement.map { [($0, demand.total)] } ?? []
    }

    /// What it holds in pool `ref` while running.
    func allocation(in ref: PoolRef) -> Resources {
        if shards.isEmpty { return placement == ref ? demand.total : .zero }
        return shards.first { $0.pool == ref }.map { demand.perReplica.scaled(by: $0.replicas) } ?? .zero
    }
}

/// Part of a gang: how many of its replicas run in one pool.
public struct PoolShard: Hashable, Sendable {
    public var pool: PoolRef
    public var replicas: Int

    public init(pool: PoolRef, replicas: Int) {
        self.pool = pool
        self.replicas = replicas
    }
}

/// A pool, by data centre and pool index into the topology.
public struct PoolRef: Hashable, Sendable {
    public var datacenter: Int
    public var pool: Int

    public init(datacenter: Int, pool: Int) {
        self.datacenter = datacenter
        self.pool = pool
    }
}

/// The scheduler's interned view of a job spec: indices instead of strings, so a placement check
/// is integer compares. Built once at submission.
struct Demand: Hashable, Sendable {
    var total: Resources
    /// One replica's request; `total` is this × `replicas`.
    var perReplica: Resources
    var replicas: Int
    var classIndex: Int
    var tenantIndex: Int
    var originIndex: Int
    /// Index into `Topology.acceleratorModels`, or -1 for "any" / none.
    var modelIndex: Int
    var wantsAccelerators: Bool
    var latencyBudgetMs: Double
    /// Bit i set: data centre i allowed.
    var residencyMask: UInt64
    var preemptible: Bool
    /// Seconds assumed for energy estimates.
    var estimatedSeconds: Double
    /// Priority within the class (spec priority).
    var priority: Int
    /// It runs a command: only where site agents execute.
    var needsAgents = false

    /// One replica of the gang, as a demand of its own (for checks per replica).
    var oneReplica: Demand {
        var one = self
        one.total = perReplica
        return one
    }

    /// Stands in until a job is re-admitted (restore); never scheduled.
    static let unresolved = Demand(total: .zero, perReplica: .zero, replicas: 1, classIndex: 0, tenantIndex: 0, originIndex: 0, modelIndex: -1,
                                   wantsAccelerators: false, latencyBudgetMs: 0, residencyMask: 0, preemptible: false,
                                   estimatedSeconds: 0, priority: 0)
}
