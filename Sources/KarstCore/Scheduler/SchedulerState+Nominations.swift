/// A preemptor waiting for site agents to stop the runs it preempted.
///
/// A modelled run is evicted and its capacity reused in the same step; an agent's run cannot be:
/// it holds its capacity (`stopping`) until its agent confirms the process is gone, or the agent
/// is declared lost. Meanwhile the preemptor is *nominated* to the pool (as kube-scheduler
/// nominates a node): every pass holds its share of that pool for it alone, so neither a
/// newcomer takes what it preempted for nor does it pick more victims; once every victim ended,
/// the next pass places it there.
///
/// Invariant: a nomination names a pending job; one whose preemptor is no longer pending is
/// dropped at the next pass. Victims are runs (job, attempt): one that ended is done, even if
/// its job runs again since.
struct Nomination: Sendable, Hashable {
    var pool: PoolRef
    var victims: [RunID]
}

extension SchedulerState {
    /// The victims of `preemptor`'s nomination still stopping.
    func stoppingVictims(of n: Nomination) -> Int { n.victims.filter { stillStopping($0) != nil }.count }

    /// Victim `run`'s job while that run still stops; nil once it ended (even if its job runs again).
    private func stillStopping(_ run: RunID) -> Job? {
        guard let job = jobs[run.job], job.state == .stopping, job.attempts == run.attempt else { return nil }
        return job
    }

    /// At the start of a pass: each nominated preemptor's share of its pool is taken out of the
    /// pass's snapshot as if placed there (its stopping victims' capacity put back first), so
    /// nothing examined before it takes what it preempted for, and backfill profiles see it.
    /// A nomination is dropped when its preemptor is no longer pending, its data centre takes no
    /// work, or (its victims gone) the pool has no room for it any more: it then competes as any
    /// pending job does.
    mutating func holdNominated(_ p: inout PassScratch) {
        for id in nominations.keys.sorted() {
            let n = nominations[id]!
            let g = flatIndex(n.pool)
            guard let job = jobs[id], job.state == .pending, takesWork(n.pool.datacenter) else {
                nominations[id] = nil
                continue
            }
            var freed = Resources.zero
            for run in n.victims {
                guard let victim = stillStopping(run) else { continue }
                freed += victim.allocation(in: n.pool)
                p.taken.insert(run.job)
            }
            guard freed != .zero || job.demand.total.fits(in: p.free[g]) else {
                nominations[id] = nil
                continue
            }
            p.free[g] += freed - job.demand.total
            let end = p.now.advanced(bySeconds: job.demand.estimatedSeconds)
            p.book.occupy(g, job.demand.total, from: p.now, until: end)
            p.placedIn[g].append(Release(at: end, amount: job.demand.total))
            p.nominated[id] = g
        }
    }

    /// In a pass, for a nominated job: why it still waits (victims stopping), or its placement in
    /// the pool held for it once they are gone. Nil when it is not nominated.
    func examineNominated(_ job: Job, _ p: inout PassScratch) -> Plan.Waiting? {
        guard p.nominated[job.id] != nil, let n = nominations[job.id] else { return nil }
        let stopping = stoppingVictims(of: n)
        guard stopping == 0 else {
            return Plan.Waiting(job: job.id, reason: .preempting(stopping: stopping), estimatedStart: nil, parkUntil: nil)
        }
        let t = job.demand.tenantIndex
        let borrowed = tenants.borrows(t, job.demand.total, usage: p.usage)
        p.usage[t] += job.demand.total
        p.placements.append(.init(job: job.id, pool: n.pool, estimate: PlacementEstimate(), borrowed: borrowed))
        return nil
    }

    /// After a restart or a reload: nominations rebuilt from the runs stopping for a preemption
    /// (each victim names its preemptor last in `preemptedBy`).
    mutating func rebuildNominations() {
        nominations = [:]
        jobs.forEach { id, job in
            guard job.state == .stopping, let pool = job.placement, let by = job.preemptedBy.last,
                  agents.lease(of: id)?.stopReason == .preempted, jobs[by]?.state == .pending else { return }
            nominations[by, default: Nomination(pool: pool, victims: [])].victims.append(RunID(job: id, attempt: job.attempts))
        }
    }
}
