extension SchedulerState {
    /// One scheduling pass: decides where waiting jobs go at `now`, changing nothing.
    ///
    /// Jobs are taken in queue order (class, then the tenant with the lowest weighted dominant
    /// share, then priority + aging). Each is checked against its tenant's quota and placed by the
    /// placement stack on a snapshot of free capacity that the pass itself draws down, so the plan
    /// never over-commits a pool. The pass stops after `maxConsecutiveMisses` jobs in a row could
    /// not be placed, and passes over a (class, tenant) pair after `maxTenantMissesPerPass` of its
    /// jobs could not be placed. The queue is left exactly as it was (`mutating` only to borrow it).
    public mutating func plan(now: Instant) -> Plan {
        let sites = topology.poolSites(now: now, states: datacenterStates)
        var free = zip(sites, allocated).map { $0.capacity - $1 }
        var usage = tenants.usage
        let weights = tenants.weights
        let quotas = tenants.quotas
        let total = totalCapacity
        var stack = self.stack
        var placements: [Plan.Placement] = []
        var waiting: [Plan.Waiting] = []
        var popped: [QueueEntry] = []
        var misses = 0
        let maxMisses = max(1, topology.settings.maxConsecutiveMisses)
        let tenantMisses = max(1, topology.settings.maxTenantMissesPerPass)
        // Misses per (class, tenant) in this pass: a pair that reaches `tenantMisses` is passed
        // over for the rest of the pass, so one tenant's blocked work (over quota, waiting for a
        // full pool) cannot monopolise the pass while its share, unchanged, keeps it first in line.
        var pairMisses: [Int: Int] = [:]
        let tenantCount = tenants.names.count
        while misses < maxMisses,
              let entry = queue.popNext(
                  skip: { c, t in (pairMisses[c * tenantCount + t] ?? 0) >= tenantMisses },
                  share: { usage[$0].dominantShare(of: total) / weights[$0] })
        {
            popped.append(entry)
            guard let job = jobs[entry.id] else { continue }
            let d = job.demand
            var why: PendingReason? = nil
            if let notBefore = job.spec.notBefore, now < notBefore {
                why = .window(opens: notBefore)
            } else if let quota = quotas[d.tenantIndex],
                      let r = (usage[d.tenantIndex] + d.total).firstExceeded(quota) {
                why = .quota(resource: r)
            } else {
                switch stack.choose(d, sites: sites, free: free, rtt: rtt) {
                case .placed(let g, let estimate):
                    free[g] -= d.total
                    usage[d.tenantIndex] += d.total
                    placements.append(.init(job: entry.id, pool: sites[g].ref, estimate: estimate))
                    misses = 0
                case .blocked(let stage, let nearest):
                    why = reason(stage, nearest, d, sites)
                }
            }
            if let why {
                waiting.append(.init(job: entry.id, reason: why))
                misses += 1
                pairMisses[d.classIndex * tenantCount + d.tenantIndex, default: 0] += 1
            }
        }
        let unexamined = queue.count
        queue.restore(popped)
        self.stack = stack
        return Plan(at: now, placements: placements, waiting: waiting, unexamined: unexamined)
    }

    /// Carries out a plan: places each job that is still pending and still fits (the plan is
    /// re-checked against the state, so a stale plan can never over-commit), records why the
    /// others wait. Returns the `placed` events.
    public mutating func apply(_ plan: Plan) -> [Event] {
        var events: [Event] = []
        events.reserveCapacity(plan.placements.count)
        for p in plan.placements {
            guard let job = jobs[p.job], job.state == .pending,
                  datacenterStates[p.pool.datacenter] == .active,
                  (allocated[flatIndex(p.pool)] + job.demand.total)
                      .fits(in: topology.datacenters[p.pool.datacenter].pools[p.pool.pool].capacity)
            else { continue }
            if let placed = try? transition(p.job, .place, now: plan.at, pool: p.pool) {
                events.append(Event(kind: .placed, at: plan.at, job: placed))
            }
        }
        for w in plan.waiting {
            jobs.update(w.job) { job in if job.state == .pending { job.pendingReason = w.reason } }
        }
        return events
    }

    /// The modelled executor: completes every running job whose expected end is at or before
    /// `now`, in order of end time. Each completion is stamped with its own end time.
    public mutating func advance(to now: Instant) -> [Event] {
        var events: [Event] = []
        while let timer = timers.popDue(atOrBefore: now) {
            guard let job = jobs[timer.id], job.state == .running, job.attempts == timer.attempt else { continue }
            if let done = try? transition(timer.id, .succeed, now: timer.due) {
                events.append(Event(kind: .succeeded, at: timer.due, job: done, detail: "modelled run ended"))
            }
        }
        return events
    }

    /// Completions due by `now`, then one pass, applied: what the daemon's engine does each cycle.
    public mutating func tick(now: Instant) -> [Event] {
        var events = advance(to: now)
        events += apply(plan(now: now))
        return events
    }

    /// Turns the furthest failed feasibility stage into the reason a user reads.
    func reason(_ stage: FeasibilityCheck, _ nearest: Int?, _ d: Demand, _ sites: [PoolSite])
        -> PendingReason
    {
        switch stage {
        case .fits:
            guard let g = nearest else { return .priority }
            let (dc, pool) = names(of: sites[g].ref)
            return .noCapacity(datacenter: dc, pool: pool)
        case .datacenterState:
            return .datacenterUnavailable
        case .latency:
            return .latency(region: topology.regions[d.originIndex].id, budgetMs: d.latencyBudgetMs)
        case .accelerator, .residency, .size:
            // Ruled out at submission; reachable only after a reconfiguration removed pools.
            return .accelerator(model: d.modelIndex >= 0
                ? topology.acceleratorModels.first { $0.value == d.modelIndex }?.key ?? "?" : "any")
        }
    }
}

extension SchedulerState {
    /// The job the next pass examines first (the head of the queue), without changing anything.
    public mutating func queueHead() -> JobID? {
        let usage = tenants.usage, weights = tenants.weights, total = totalCapacity
        guard let entry = queue.popNext(share: { usage[$0].dominantShare(of: total) / weights[$0] }) else {
            return nil
        }
        queue.restore([entry])
        return entry.id
    }
}
