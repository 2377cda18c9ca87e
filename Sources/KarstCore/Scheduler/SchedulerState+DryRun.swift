extension SchedulerState {
    /// What would happen to `spec` if it were submitted now: the job it would become (not
    /// stored), where it would start and whom it would preempt, or why it would wait, its queue
    /// position and estimated start. Answered by submitting it to a copy of the state and running
    /// one pass there, so every policy (queue order, quotas, reservations, time-shifting) has its
    /// say; the real state is not touched.
    public func dryRun(_ spec: JobSpec, now: Instant) throws(SchedulerError) -> DryRun {
        var copy = self
        let id = try copy.submit(spec, now: now).job.id
        let plan = copy.plan(now: now)
        var job = copy.jobs[id]!
        if let p = plan.placements.first(where: { $0.job == id }) {
            job.pendingReason = nil
            return DryRun(job: job, pool: p.pool, shards: p.shards, estimate: p.estimate, estimatedStart: now,
                          preempts: p.victims)
        }
        if let w = plan.waiting.first(where: { $0.job == id }) {
            job.pendingReason = w.reason
            job.estimatedStart = w.estimatedStart
        }
        return DryRun(job: job, pool: nil, estimatedStart: job.estimatedStart,
                      queuePosition: copy.queuePosition(of: id))
    }
}

/// The answer of `SchedulerState.dryRun`.
public struct DryRun: Sendable {
    /// The job as it would be accepted (its id is the one the next submission gets), with its
    /// pending reason when it would wait.
    public var job: Job
    /// Where it would start now, if anywhere (the first pool of a split gang).
    public var pool: PoolRef?
    /// A gang split over pools: each pool and its replicas.
    public var shards: [PoolShard] = []
    public var estimate: PlacementEstimate?
    /// When it would start: now, or its reservation, shifted start or window opening.
    public var estimatedStart: Instant?
    /// Its place in line when it would wait.
    public var queuePosition: Int?
    /// Running jobs it would preempt.
    public var preempts: [JobID] = []
}
