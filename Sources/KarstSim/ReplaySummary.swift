import KarstCore

/// The figures a replay is judged by, computed from a `ReplayResult`: waits and promises per class
/// and per origin region, use, energy, cost and carbon per site and pool (totals and hourly),
/// tenants' fair shares, and counters. Every list is in configuration order (or sorted), so a
/// summary renders the same bytes for the same replay.
public struct ReplaySummary: Sendable {
    public var label: String
    public var overrides: [String]
    public var start: Instant
    public var end: Instant
    public var jobs: Int
    public var rejected: Int
    /// The first few refusals, with their reasons.
    public var rejectedExamples: [String]
    public var passes: Int
    public var coreEvents: Int
    public var preemptions: Int
    public var retries: Int
    public var outageRequeues: Int
    /// Jobs by their state at the end.
    public var succeeded = 0, failed = 0, cancelled = 0, waiting = 0, running = 0
    public var classes: [GroupStats]
    public var origins: [GroupStats]
    /// Every job together.
    public var overall: GroupStats
    public var sites: [SiteStats]
    public var tenants: [TenantStats]
    /// Jain's index over the tenants' weighted mean dominant shares.
    public var fairness: Double?
    /// Mean pending jobs per class (index as `classes`), per hour.
    public var queueDepth: [[Double]]
    public var siteEvents: [SiteEvent]
    /// Start of each hourly bucket.
    public var hours: [Instant]

    public var energyKWh: Double { sites.reduce(0) { $0 + $1.energyKWh } }
    public var costCNY: Double { sites.reduce(0) { $0 + $1.costCNY } }
    public var carbonKg: Double { sites.reduce(0) { $0 + $1.carbonKg } }

    public init(_ r: ReplayResult, label: String = "replay", overrides: [String] = [],
                promises: WaitPromises = WaitPromises()) {
        let t = r.topology
        self.label = label
        self.overrides = overrides
        start = r.start
        end = r.end
        jobs = r.jobs.count + r.rejected.count
        rejected = r.rejected.count
        rejectedExamples = r.rejected.prefix(5).map { "\($0.name): \($0.reason)" }
        passes = r.passes
        coreEvents = r.coreEvents
        preemptions = r.preemptions
        retries = r.retries
        outageRequeues = r.outageRequeues
        siteEvents = r.siteEvents
        hours = (0..<r.pools.buckets).map { r.pools.start(of: $0) }
        var byClass = Array(repeating: [JobOutcome](), count: t.classes.count)
        var byOrigin = Array(repeating: [JobOutcome](), count: t.regions.count)
        var perTenant = Array(repeating: 0, count: r.tenants.count)
        for j in r.jobs {
            perTenant[Int(j.tenantIndex)] += 1
            byClass[Int(j.classIndex)].append(j)
            byOrigin[Int(j.originIndex)].append(j)
            switch j.state {
            case .succeeded: succeeded += 1
            case .failed: failed += 1
            case .cancelled: cancelled += 1
            case .running, .stopping: running += 1
            case .pending, .held: waiting += 1
            }
        }
        classes = t.classes.enumerated().map { i, c in
            GroupStats(id: c.id, jobs: byClass[i], promise: { _ in promises.promise(for: c.id) })
        }
        origins = t.regions.enumerated().map { i, region in
            GroupStats(id: region.id, jobs: byOrigin[i], promise: { promises.promise(for: t.classes[$0].id) })
        }
        overall = GroupStats(id: "all", jobs: r.jobs, promise: { promises.promise(for: t.classes[$0].id) })
        queueDepth = t.classes.indices.map { r.queue.means($0) }
        sites = SiteStats.all(r)
        let horizon = max(1, r.start.seconds(to: r.end))
        let total = t.totalCapacity
        tenants = r.tenants.indices.map { i in
            let u = r.tenantUsage[i]
            let mean = Resources(cpu: u.cpu / horizon, memoryGiB: u.memoryGiB / horizon,
                                 accelerators: Int((u.accelerators / horizon).rounded()))
            let share = max(mean.dominantShare(of: total),
                            total.accelerators > 0 ? u.accelerators / horizon / Double(total.accelerators) : 0)
            let weight = t.tenantPolicy(for: r.tenants[i]).weight
            return TenantStats(id: r.tenants[i], weight: weight, jobs: perTenant[i],
                               meanDominantShare: share)
        }.sorted { $0.id < $1.id }
        fairness = jainIndex(tenants.map { $0.meanDominantShare / $0.weight })
    }
}

/// Waits and promises for one class or origin region.
public struct GroupStats: Sendable {
    public var id: String
    public var submitted: Int
    public var started: Int
    public var waitP50: Double?, waitP95: Double?, waitP99: Double?
    /// Share of the submitted jobs that started on time: within their window if they have one, else
    /// within their class's wait promise (nil: no job had either).
    public var withinPromise: Double?
    /// Jobs with a deadline, and the share of them that succeeded by it.
    public var deadlineJobs: Int
    public var deadlineMet: Double?
    /// 101 quantiles (0 %, 1 %, …, 100 %) of the waits of the jobs that started.
    public var waitQuantiles: [Double]

    init(id: String, jobs: [JobOutcome], promise: (Int) -> Double?) {
        self.id = id
        submitted = jobs.count
        let waits = jobs.compactMap(\.waitSeconds).sorted()
        started = waits.count
        waitP50 = percentile(waits, 0.50)
        waitP95 = percentile(waits, 0.95)
        waitP99 = percentile(waits, 0.99)
        waitQuantiles = quantiles(waits, count: 101)
        var promised = 0, kept = 0
        for j in jobs {
            guard let onTime = j.startedOnTime(promise: promise(Int(j.classIndex))) else { continue }
            promised += 1
            if onTime { kept += 1 }
        }
        withinPromise = promised > 0 ? Double(kept) / Double(promised) : nil
        let dl = jobs.compactMap(\.metDeadline)
        deadlineJobs = dl.count
        deadlineMet = dl.isEmpty ? nil : Double(dl.filter { $0 }.count) / Double(dl.count)
    }
}

/// One tenant's share of the hub over the replay.
public struct TenantStats: Sendable {
    public var id: String
    public var weight: Double
    public var jobs: Int
    /// The dominant share of its mean allocation (over the replay) of the hub's total capacity.
    public var meanDominantShare: Double
}
