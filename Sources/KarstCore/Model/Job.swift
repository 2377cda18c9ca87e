/// A job as the scheduler tracks it: the spec, where it is in its life, where it runs.
public struct Job: Hashable, Sendable {
    public let id: JobID
    public var spec: JobSpec
    /// The tenant charged for it (the spec's tenant, resolved at submission).
    public var tenant: String
    public var state: JobState
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

    /// Stands in until a job is re-admitted (restore); never scheduled.
    static let unresolved = Demand(total: .zero, classIndex: 0, tenantIndex: 0, originIndex: 0, modelIndex: -1,
                                   wantsAccelerators: false, latencyBudgetMs: 0, residencyMask: 0, preemptible: false,
                                   estimatedSeconds: 0, priority: 0)
}
