/// Everything the scheduler knows about the hub that comes from configuration: regions, data
/// centres and their pools, priority classes, tenants and scoring.
///
/// Invariants (checked by `KarstConfig` validation, assumed here): ids are unique within their
/// list; every data centre has an RTT for every region; at most 64 data centres (residency is a
/// 64-bit mask); class base priorities are unique.
public struct Topology: Sendable {
    public var regions: [Region]
    public var datacenters: [Datacenter]
    /// Priority classes, sorted by `basePriority`, highest first.
    public private(set) var classes: [PriorityClass]
    public var tenants: [TenantPolicy]
    /// The policy for a tenant not listed in `tenants` (its `id` is ignored).
    public var tenantDefaults: TenantPolicy
    public var scoring: ScoringWeights
    public var settings: SchedulerSettings

    let regionIndex: [String: Int]
    let datacenterIndex: [String: Int]
    let classIndex: [String: Int]
    let acceleratorModels: [String: Int]

    public init(regions: [Region], datacenters: [Datacenter], classes: [PriorityClass],
                tenants: [TenantPolicy] = [], tenantDefaults: TenantPolicy = TenantPolicy(id: "*"),
                scoring: ScoringWeights = ScoringWeights(), settings: SchedulerSettings = SchedulerSettings()) {
        self.regions = regions
        self.datacenters = datacenters
        self.classes = classes.sorted { $0.basePriority > $1.basePriority }
        self.tenants = tenants
        self.tenantDefaults = tenantDefaults
        self.scoring = scoring
        self.settings = settings
        self.regionIndex = Dictionary(regions.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { a, _ in a })
        self.datacenterIndex = Dictionary(datacenters.enumerated().map { ($1.id, $0) },
                                          uniquingKeysWith: { a, _ in a })
        self.classIndex = Dictionary(self.classes.enumerated().map { ($1.id, $0) },
                                     uniquingKeysWith: { a, _ in a })
        var models: [String: Int] = [:]
        for dc in datacenters {
            for pool in dc.pools {
                if let m = pool.acceleratorModel, models[m] == nil { models[m] = models.count }
            }
        }
        self.acceleratorModels = models
    }

    /// The index of a region id, or nil.
    public func regionIndex(of id: String) -> Int? { regionIndex[id] }
    /// The index of a data centre id, or nil.
    public func datacenterIndex(of id: String) -> Int? { datacenterIndex[id] }
    /// The index of a class id in `classes` (0 is the highest class), or nil.
    public func classIndex(of id: String) -> Int? { classIndex[id] }
    /// The pool index of `pool` in data centre `dc`, or nil.
    public func poolIndex(of pool: String, in dc: Int) -> Int? {
        datacenters[dc].pools.firstIndex { $0.id == pool }
    }

    /// The capacity of every pool together (the denominator of dominant shares).
    public var totalCapacity: Resources {
        datacenters.reduce(.zero) { acc, dc in dc.pools.reduce(acc) { $0 + $1.capacity } }
    }

    /// The policy that applies to `tenant`.
    public func tenantPolicy(for tenant: String) -> TenantPolicy {
        if let t = tenants.first(where: { $0.id == tenant }) { return t }
        var d = tenantDefaults
        d.id = tenant
        return d
    }
}

/// Scheduler-wide settings that are not per site, class or tenant.
public struct SchedulerSettings: Hashable, Sendable {
    /// The offset from UTC of the hub's local time, for hourly curves (China Standard Time: +8).
    public var utcOffsetHours: Int
    /// kg CO₂ per kWh of electricity that is not clean (the coal-heavy remainder of the grid).
    public var gridIntensityKgPerKWh: Double
    /// Run time assumed for energy estimates when a job gives no `durationSeconds`.
    public var defaultDurationSeconds: Double
    /// A pass stops after this many jobs in a row could not be placed; the rest keep reason
    /// `priority` until a later pass reaches them. Bounds a pass over a deep, blocked queue.
    public var maxConsecutiveMisses: Int
    /// Within one pass, a tenant's jobs of one class are passed over after this many of them
    /// could not be placed (they keep their reason from this pass or an earlier one).
    public var maxTenantMissesPerPass: Int
    /// Preemption damping: a job preempted this many times becomes non-preemptible.
    public var maxPreemptionsPerJob: Int
    /// Preemption damping: at most this many jobs are evicted from one pool per minute.
    public var poolPreemptionsPerMinute: Int
    /// Backfill: how many blocked jobs per pass get a capacity reservation at their earliest
    /// start (0 turns backfill protection off: lower-ranked jobs take whatever fits).
    public var backfillReservations: Int
    /// Time-shifting: a flexible job is delayed to a later hour of its window only when that
    /// hour is at least this fraction cheaper and cleaner (weighted by the energy and carbon
    /// scoring weights) than starting now.
    public var timeShiftMinSaving: Double
    /// Deadlines: a job whose latest start (deadline − expected run time) is within this many
    /// seconds is ranked ahead of its class, earliest deadline first.
    public var deadlineSlackSeconds: Double
    /// The longest `durationSeconds` a new job may give (`SpecBounds.maxDurationCeiling` at most).
    public var maxDurationSeconds: Double
    /// How site agents and the daemon judge each other's silence.
    public var agentTimeouts = AgentTimeouts()

    public init(utcOffsetHours: Int = 8, gridIntensityKgPerKWh: Double = 0.8,
                defaultDurationSeconds: Double = 3600, maxConsecutiveMisses: Int = 2000,
                maxTenantMissesPerPass: Int = 16, maxPreemptionsPerJob: Int = 3,
                poolPreemptionsPerMinute: Int = 60, backfillReservations: Int = 8,
                timeShiftMinSaving: Double = 0.1, deadlineSlackSeconds: Double = 900,
                maxDurationSeconds: Double = SpecBounds.defaultMaxDuration) {
        self.utcOffsetHours = utcOffsetHours
        self.gridIntensityKgPerKWh = gridIntensityKgPerKWh
        self.defaultDurationSeconds = defaultDurationSeconds
        self.maxConsecutiveMisses = maxConsecutiveMisses
        self.maxTenantMissesPerPass = maxTenantMissesPerPass
        self.maxPreemptionsPerJob = maxPreemptionsPerJob
        self.poolPreemptionsPerMinute = poolPreemptionsPerMinute
        self.backfillReservations = backfillReservations
        self.timeShiftMinSaving = timeShiftMinSaving
        self.deadlineSlackSeconds = deadlineSlackSeconds
        self.maxDurationSeconds = maxDurationSeconds
    }
}
