/// What one pass tracks while it decides: free capacity and tenant usage as its own decisions
/// draw them down, backfill reservations, victims already claimed.
struct PassScratch {
    let now: Instant
    let sites: [PoolSite]
    var free: [Resources]
    var usage: [Resources]
    var book = ReservationBook()
    var placements: [Plan.Placement] = []
    var waiting: [Plan.Waiting] = []
    var reservations: [Plan.Reservation] = []
    /// Running jobs this pass has chosen to evict.
    var taken = Set<JobID>()
    /// Evictions each pool may still make (rate limit).
    var evictionBudget: [Int]
    /// Preemption search budget for this pass: a search scans the running jobs of every pool
    /// the job could use; one that finds victims costs 1, one that finds none costs 8 (a
    /// saturated hub with nothing to evict pays for at most four full scans per pass).
    var preemptionSearches = 32
    /// Nominated preemptors whose share this pass holds, and the pool it is held in.
    var nominated: [JobID: Int] = [:]
    /// What this pass placed in each pool and when it is expected to end (for profiles).
    var placedIn: [[Release]]
    var wakeAt: Instant?

    mutating func wake(at t: Instant) { wakeAt = min(wakeAt ?? t, t) }
}

extension SchedulerState {
    /// One scheduling pass: decides where waiting jobs go at `now`, changing nothing but the
    /// pass's own bookkeeping (the queue is left as it was, except that jobs parked until `now`
    /// or earlier rejoin the line first).
    ///
    /// Jobs are taken in queue order: class; inside a class, jobs at risk of missing their
    /// deadline first (earliest deadline first), then the tenant with the lowest weighted
    /// dominant share, then priority + aging. For each job, in turn: its window (`notBefore`),
    /// its tenant's ceiling (quota + borrow limit), the placement stack on a snapshot of free
    /// capacity that the pass draws down (so a plan never over-commits) and that respects the
    /// backfill reservations made so far, time-shifting, a gang split over pools, preemption,
    /// and — when it still cannot start — a reservation at its earliest start.
    ///
    /// The pass stops after `maxConsecutiveMisses` jobs in a row could not be placed, and passes
    /// over a (class, tenant) pair after `maxTenantMissesPerPass` of its jobs could not be placed.
    public mutating func plan(now: Instant) -> Plan {
        queue.unpark(through: now)
        refreshAtRisk(now: now)
        let sites = topology.poolSites(now: now, states: datacenterStates, agentsLive: agentsLive)
        var p = PassScratch(now: now, sites: sites, free: zip(sites, allocated).map { $0.capacity - $1 },
                            usage: tenants.usage, evictionBudget: evictionBudgets(now: now),
                            placedIn: Array(repeating: [], count: sites.count))
        if !nominations.isEmpty { holdNominated(&p) }
        let weights = tenants.weights
        let total = totalCapacity
        // The stack's scratch buffer moves out for the pass and back after: a copy left in
        // `self` would make the pass's first use of it copy the buffer.
        var stack = PlacementStack(weights: topology.scoring)
        swap(&stack, &self.stack)
        var popped: [QueueEntry] = []
        var misses = 0
        let maxMisses = max(1, topology.settings.maxConsecutiveMisses)
        let tenantMisses = max(1, topology.settings.maxTenantMissesPerPass)
        // Misses per (class, tenant) in this pass: a pair that reaches `tenantMisses` is passed
        // over for the rest of the pass, so one tenant's blocked work (over quota, waiting for a
        // full pool) cannot monopolise the pass while its share, unchanged, keeps it first in line.
        let tenantCount = tenants.names.count
        var pairMisses = [Int](repeating: 0, count: topology.classes.count * tenantCount)
        let urgent = deadlines.atRisk
        var nextUrgent = 0
        while misses < maxMisses {
            var entry: QueueEntry? = nil
            while entry == nil, nextUrgent < urgent.count,
                  urgent[nextUrgent].classIndex <= (queue.firstActiveClass ?? Int.max) {
                entry = queue.take(urgent[nextUrgent].id)
                nextUrgent += 1
            }
            if entry == nil {
                entry = queue.popNext(
                    skip: { c, t in pairMisses[c * tenantCount + t] >= tenantMisses },
                    share: { p.usage[$0].dominantShare(of: total) / weights[$0] })
            }
            guard let entry else { break }
            popped.append(entry)
            guard let job = jobs[entry.id] else { continue }
            if let waiting = examine(job, &p, &stack) {
                p.waiting.append(waiting)
                misses += 1
                pairMisses[job.demand.classIndex * tenantCount + job.demand.tenantIndex] += 1
            } else {
                misses = 0
            }
        }
        let unexamined = queue.count - queue.parkedCount
        queue.restore(popped)
        self.stack = stack
        var plan = Plan(at: now, placements: p.placements, waiting: p.waiting, unexamined: unexamined)
        plan.reservations = p.reservations
        plan.deadlineMisses = dueDeadlines(now: now)
        plan.wakeAt = p.wakeAt
        return plan
    }

    /// Decides for one job: nil when it is placed (recorded in `p`), else why it waits.
    func examine(_ job: Job, _ p: inout PassScratch, _ stack: inout PlacementStack) -> Plan.Waiting? {
        let d = job.demand, now = p.now, t = d.tenantIndex
        func wait(_ reason: PendingReason, _ start: Instant? = nil, parkUntil: Instant? = nil) -> Plan.Waiting {
            Plan.Waiting(job: job.id, reason: reason, estimatedStart: start, parkUntil: parkUntil)
        }
        if p.nominated[job.id] != nil { return examineNominated(job, &p) }
        if let notBefore = job.spec.notBefore, now < notBefore {
            p.wake(at: notBefore)
            return wait(.window(opens: notBefore), notBefore, parkUntil: notBefore)
        }
        let borrowed = tenants.borrows(t, d.total, usage: p.usage)
        if borrowed, let ceiling = tenants.ceilings[t], let r = (p.usage[t] + d.total).firstExceeded(ceiling) {
            return wait(.quota(resource: r))
        }
        let end = now.advanced(bySeconds: d.estimatedSeconds)
        let booked = !p.book.isEmpty
        switch stack.choose(d, sites: p.sites, free: p.free, rtt: rtt, book: p.book, until: end) {
        case .placed(let g, let estimate):
            if let target = shiftTarget(job, datacenter: p.sites[g].ref.datacenter, now: now) {
                // Judged again at the next whole hour (the hour the target is counted from
                // changes then), or at the target if sooner; not at every pass before.
                let again = min(target, now.nextWholeHour)
                p.wake(at: again)
                return wait(.shifted(until: target), target, parkUntil: again)
            }
            take(d.total, in: g, for: t, until: end, &p)
            p.placements.append(.init(job: job.id, pool: p.sites[g].ref, estimate: estimate, borrowed: borrowed))
            return nil
        case .blocked(let stage, let nearest):
            if stage == .size || stage == .fits,
               let shards = splitGang(d, sites: p.sites, free: p.free, book: p.book, until: end) {
                for s in shards {
                    take(d.perReplica.scaled(by: s.replicas), in: flatIndex(s.pool), for: -1, until: end, &p)
                }
                p.usage[t] += d.total
                p.placements.append(.init(job: job.id, pool: shards[0].pool, estimate: PlacementEstimate(),
                                          shards: shards, borrowed: borrowed))
                return nil
            }
            if stage == .size, d.replicas > 1, let g = firstGangPool(d, p.sites) {
                // A gang only a split can hold: it waits for room across its data centre's pools.
                let (dc, pool) = names(of: p.sites[g].ref)
                return wait(.noCapacity(datacenter: dc, pool: pool))
            }
            // Every pool it could use is in a data centre that takes no new work (or, after a
            // reload, none is left): nothing but a change of the hub helps.
            guard stage == .fits else { return wait(reason(stage, nearest, d, p.sites), parkUntil: .never) }
            if p.preemptionSearches > 0 {
                p.preemptionSearches -= 8
                if let choice = preemption(for: job, now: now, sites: p.sites, free: p.free, usage: p.usage,
                                           taken: p.taken, budget: p.evictionBudget, book: p.book) {
                    p.preemptionSearches += 7
                    evict(choice, &p)
                    take(d.total, in: choice.site, for: t, until: end, &p)
                    p.placements.append(.init(job: job.id, pool: p.sites[choice.site].ref, estimate: PlacementEstimate(),
                                              victims: choice.victims, borrowed: borrowed))
                    return nil
                }
            }
            var why = reason(stage, nearest, d, p.sites)
            if booked, case .placed(let g, _) = stack.choose(d, sites: p.sites, free: p.free, rtt: rtt),
               let holder = p.book.holder(of: g) {
                why = .reservedFor(holder)
            }
            return wait(why, reserve(job, &p, nearest: nearest))
        }
    }

    /// Draws a placement's resources out of the pass's snapshot (tenant `t`, or -1 to leave
    /// usage to the caller).
    private func take(_ r: Resources, in g: Int, for t: Int, until end: Instant, _ p: inout PassScratch) {
        p.free[g] -= r
        if t >= 0 { p.usage[t] += r }
        p.book.occupy(g, r, from: p.now, until: end)
        p.placedIn[g].append(Release(at: end, amount: r))
    }

    /// Claims a preemption's victims in the pass's snapshot.
    private func evict(_ choice: PreemptionChoice, _ p: inout PassScratch) {
        p.free[choice.site] += choice.freed
        p.evictionBudget[choice.site] -= choice.victims.count
        for v in choice.victims {
            p.taken.insert(v)
            if let victim = jobs[v] { p.usage[victim.demand.tenantIndex] -= victim.demand.total }
        }
    }

    /// Backfill: reserves capacity for a blocked job at its earliest start, computed from running
    /// jobs' expected ends (`durationSeconds`, else the default run time) and the reservations
    /// already made. The pool is the one that came `nearest` to fitting (one profile per
    /// reservation keeps a busy pass cheap); without one, the earliest over every pool it could
    /// use. Returns that start, or nil when the pass has made its `backfillReservations` or no
    /// pool will ever free enough.
    func reserve(_ job: Job, _ p: inout PassScratch, nearest: Int? = nil) -> Instant? {
        guard p.reservations.count < topology.settings.backfillReservations else { return nil }
        let d = job.demand
        var best: (start: Instant, site: Int)? = nil
        for (g, site) in p.sites.enumerated() where nearest == nil || nearest == g {
            guard FeasibilityCheck.allowsApartFromLoad(d, site, rtt: rtt) else { continue }
            if !p.book.hasProfile(g) {
                p.book.store(profile(of: g, free: p.free[g], now: p.now, skipping: p.taken,
                                     placed: p.placedIn[g]), for: g)
            }
            guard let start = p.book.earliestStart(g, d.total, seconds: d.estimatedSeconds) else { continue }
            if best == nil || start < best!.start { best = (start, g) }
        }
        guard let best else { return nil }
        p.book.reserve(best.site, for: job.id, d.total, from: best.start,
                       until: best.start.advanced(bySeconds: d.estimatedSeconds))
        p.reservations.append(.init(job: job.id, pool: p.sites[best.site].ref, start: best.start))
        return best.start
    }

    /// Pool `g`'s free capacity over time: `free` now, plus each running job's share (and each
    /// of this pass's `placed` ones) released at its expected end; jobs being evicted are skipped.
    func profile(of g: Int, free: Resources, now: Instant, skipping: Set<JobID>, placed: [Release]) -> AvailabilityProfile {
        AvailabilityProfile(now: now, free: free, running: runningEnds[g], skipping: skipping, placed: placed)
    }
}
