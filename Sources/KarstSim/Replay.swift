import KarstCore

/// Replays a trace through the real scheduler on a virtual clock: a discrete-event loop that
/// jumps from one arrival or modelled completion to the next, submitting, completing and running
/// one scheduling pass at each. Deterministic: the same trace and topology give the same result.
public struct Replay: Sendable {
    public let topology: Topology

    public init(topology: Topology) { self.topology = topology }

    public func run(_ trace: [TraceJob]) -> ReplayResult {
        var state = SchedulerState(topology: topology)
        var result = ReplayResult(topology: topology)
        var i = 0
        while true {
            let nextArrival = i < trace.count ? trace[i].submitAt : nil
            guard let now = [nextArrival, state.nextCompletion].compactMap({ $0 }).min() else { break }
            while i < trace.count, trace[i].submitAt <= now {
                do {
                    let e = try state.submit(trace[i].spec, now: trace[i].submitAt)
                    result.records[e.job.id] = JobRecord(job: e.job)
                } catch {
                    result.rejected.append((trace[i], error))
                }
                i += 1
            }
            for e in state.advance(to: now) { result.records[e.job.id]?.finish(e.job) }
            let plan = state.plan(now: now)
            let estimates = Dictionary(plan.placements.map { ($0.job, $0.estimate) }, uniquingKeysWith: { a, _ in a })
            for e in state.apply(plan) {
                result.records[e.job.id]?.start(e.job, estimate: estimates[e.job.id])
            }
            result.passes += 1
            result.end = now
        }
        result.stillPending = state.pendingCount
        return result
    }
}

/// What happened to one job in a replay.
public struct JobRecord: Sendable {
    public var id: JobID
    public var priorityClass: String
    public var origin: String
    public var tenant: String
    public var submittedAt: Instant
    public var startedAt: Instant?
    public var finishedAt: Instant?
    public var placement: PoolRef?
    public var estimate: PlacementEstimate?

    init(job: Job) {
        id = job.id
        priorityClass = job.spec.priorityClass
        origin = job.spec.origin
        tenant = job.tenant
        submittedAt = job.submittedAt
    }

    mutating func start(_ job: Job, estimate: PlacementEstimate?) {
        if startedAt == nil { startedAt = job.startedAt }
        placement = job.placement
        self.estimate = estimate
    }

    mutating func finish(_ job: Job) { finishedAt = job.finishedAt }

    /// Seconds from submission to first start.
    public var waitSeconds: Double? { startedAt.map { submittedAt.seconds(to: $0) } }
}

/// The outcome of a replay.
public struct ReplayResult: Sendable {
    public let topology: Topology
    public var records: [JobID: JobRecord] = [:]
    public var rejected: [(TraceJob, SchedulerError)] = []
    public var passes = 0
    public var end: Instant?
    public var stillPending = 0
}
