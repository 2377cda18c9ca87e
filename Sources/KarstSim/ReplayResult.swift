import KarstCore

/// The raw outcome of one replay: every job's story in brief, hourly series, counters. Reports
/// (`ReplaySummary`, text, JSON, HTML) are computed from it.
public struct ReplayResult: Sendable {
    public let topology: Topology
    /// In submission order (the core's ids are dense in it).
    public var jobs: [JobOutcome] = []
    /// Tenant names, indexed by `JobOutcome.tenantIndex` (first-seen order).
    public var tenants: [String] = []
    /// Per tenant: its running jobs' resources integrated over time (cores·s, GiB·s, accelerators·s).
    public var tenantUsage: [(cpu: Double, memoryGiB: Double, accelerators: Double)] = []
    /// Jobs the scheduler refused at submission, with the reason.
    public var rejected: [(name: String, reason: String)] = []
    /// Per flattened pool (`SchedulerState.poolRefs` order), two keys each: `2g` the pool's
    /// dominant utilisation, `2g + 1` its IT power in watts.
    public var pools: HourlySeries
    /// Pending jobs per class (index into `Topology.classes`).
    public var queue: HourlySeries
    /// The site events applied, in order.
    public var siteEvents: [SiteEvent] = []
    /// The first arrival and the last moment anything happened.
    public var start: Instant
    public var end: Instant
    public var passes = 0
    /// Events the core emitted.
    public var coreEvents = 0
    public var preemptions = 0
    /// Failed runs that were retried.
    public var retries = 0
    /// Runs requeued because their site went offline.
    public var outageRequeues = 0
    public var poolRefs: [PoolRef]

    init(topology: Topology, origin: Instant, poolRefs: [PoolRef]) {
        self.topology = topology
        self.poolRefs = poolRefs
        self.pools = HourlySeries(origin: origin, keys: poolRefs.count * 2)
        self.queue = HourlySeries(origin: origin, keys: topology.classes.count)
        self.start = origin
        self.end = origin
    }
}
