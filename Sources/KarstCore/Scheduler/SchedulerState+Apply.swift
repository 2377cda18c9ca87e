extension SchedulerState {
    /// Carries out a plan. Every step is re-checked against the state, so a stale plan can never
    /// over-commit: a placement is skipped unless the job is still pending, its data centre
    /// active and every shard still fits once its victims (all still running where the plan saw
    /// them) are evicted. Victims are requeued (`preempted`), keeping their submit time; then the
    /// preemptor is placed in the capacity they freed. Waiting jobs get their reason and
    /// estimated start, and those only the clock can change are parked until then; jobs whose
    /// dependency failed are failed; missed deadlines are reported.
    public mutating func apply(_ plan: Plan) -> [Event] {
        var events: [Event] = []
        apply(plan, into: &events)
        return events
    }

    /// `apply(_:)`, appending its events to `events` (an event holds a whole job: appending in
    /// place spares copying them from one array to another).
    public mutating func apply(_ plan: Plan, into events: inout [Event]) {
        events += failDoomed(now: plan.at)
        events.reserveCapacity(events.count + plan.placements.count)
        for p in plan.placements {
            guard let job = jobs[p.job], job.state == .pending,
                  unmetDependencies.isEmpty || unmetDependencies[p.job] == nil,
                  takesWork(p.pool.datacenter), canEvict(p.victims, from: p.pool)
            else { continue }
            let g = flatIndex(p.pool)
            let freed = p.victims.reduce(Resources.zero) { $0 + (jobs[$1]?.allocation(in: p.pool) ?? .zero) }
            let fits = p.shards.isEmpty
                ? (allocated[g] + job.demand.total - freed).fits(in: capacity(of: p.pool))
                : p.shards.allSatisfy { s in
                    takesWork(s.pool.datacenter)
                        && (allocated[flatIndex(s.pool)] + job.demand.perReplica.scaled(by: s.replicas)
                            - (s.pool == p.pool ? freed : .zero)).fits(in: capacity(of: s.pool))
                }
            guard fits else { continue }
            // Modelled victims are evicted now; agents' runs are asked to stop, and the preemptor
            // waits, nominated to the pool, until they confirm (`Nomination`).
            var stopping: [RunID] = []
            for v in p.victims {
                if let e = stopPreempted(v, by: job, at: plan.at, pool: g) {
                    events.append(e)
                    stopping.append(RunID(job: v, attempt: e.job.attempts))
                } else {
                    events.append(preempt(v, by: job, at: plan.at, pool: g))
                }
            }
            if !stopping.isEmpty {
                nominations[p.job] = Nomination(pool: p.pool, victims: stopping)
                jobs.update(p.job) { $0.pendingReason = .preempting(stopping: stopping.count) }
                continue
            }
            nominations[p.job] = nil
            guard let placed = try? transition(p.job, .place, now: plan.at, pool: p.pool, shards: p.shards,
                                               borrowed: p.borrowed) else { continue }
            // A command's run is leased to a live agent of its data centre (`takesWork` above
            // made sure there is one) in the same step; the lease is committed with the batch,
            // then sent.
            if placed.spec.runsCommand {
                _ = agents.lease(RunID(job: placed.id, attempt: placed.attempts),
                                 in: topology.datacenters[p.pool.datacenter].id, now: plan.at)
            }
            events.append(Event(kind: .placed, at: plan.at, job: placed,
                                detail: p.victims.isEmpty ? nil : "preempted \(p.victims.map(\.description).joined(separator: ", "))"))
        }
        for w in plan.waiting {
            var pending = false
            jobs.update(w.job) { job in
                guard job.state == .pending else { return }
                job.pendingReason = w.reason
                job.estimatedStart = w.estimatedStart
                pending = true
            }
            if pending, let until = w.parkUntil, until > plan.at { queue.park(w.job, until: until) }
        }
        for id in plan.deadlineMisses {
            guard var job = jobs[id], !job.deadlineMissed else { continue }
            job.deadlineMissed = true
            jobs[id] = job
            events.append(Event(kind: .deadlineMissed, at: plan.at, job: job,
                                detail: "deadline \(job.spec.deadline?.rfc3339 ?? "?") passed while \(job.state.rawValue)"))
        }
    }

    /// The modelled executor: completes every running job whose expected end is at or before
    /// `now`, in order of end time. Each completion is stamped with its own end time.
    public mutating func advance(to now: Instant) -> [Event] {
        var events: [Event] = []
        advance(to: now, into: &events)
        return events
    }

    /// `advance(to:)`, appending its events to `events`.
    public mutating func advance(to now: Instant, into events: inout [Event]) {
        if agents.nextDeadline.map({ $0 <= now }) == true { noticeAgentSilence(now: now, into: &events) }
        while let timer = timers.popDue(atOrBefore: now) {
            guard let job = jobs[timer.id], job.state == .running, job.attempts == timer.attempt else { continue }
            if let done = try? transition(timer.id, .succeed, now: timer.due) {
                events.append(Event(kind: .succeeded, at: timer.due, job: done, detail: "modelled run ended"))
            }
        }
    }

    /// Completions due by `now`, then one pass, applied: what the daemon's engine does each cycle.
    public mutating func tick(now: Instant) -> [Event] {
        var events: [Event] = []
        tick(now: now, into: &events)
        return events
    }

    /// `tick(now:)`, appending its events to `events`.
    public mutating func tick(now: Instant, into events: inout [Event]) {
        advance(to: now, into: &events)
        apply(plan(now: now), into: &events)
    }

    private func capacity(of ref: PoolRef) -> Resources {
        topology.datacenters[ref.datacenter].pools[ref.pool].capacity
    }

    /// Whether every victim still runs in `pool` and may still be preempted.
    private func canEvict(_ victims: [JobID], from pool: PoolRef) -> Bool {
        victims.allSatisfy { v in
            guard let job = jobs[v] else { return false }
            return job.state == .running && job.placement == pool && job.demand.preemptible
                && job.preemptions < topology.settings.maxPreemptionsPerJob
        }
    }

    /// Requeues one victim: attempts kept, `preemptions` counted, submit time kept for aging.
    private mutating func preempt(_ id: JobID, by preemptor: Job, at now: Instant, pool g: Int) -> Event {
        let victim = (try? transition(id, .requeue, now: now)) ?? jobs[id]!
        let marked = countPreemption(of: victim, by: preemptor, at: now, pool: g, then: "requeued")
        return Event(kind: .preempted, at: now, job: marked, detail: marked.message)
    }

    /// Asks the agent running victim `id` to stop it (`stopping`); nil when no agent runs it.
    /// It is requeued when the agent confirms, as a preemption.
    private mutating func stopPreempted(_ id: JobID, by preemptor: Job, at now: Instant, pool g: Int) -> Event? {
        guard jobs[id]?.spec.runsCommand == true, var event = try? stopAgentRun(id, reason: .preempted, now: now)
        else { return nil }
        event.job = countPreemption(of: event.job, by: preemptor, at: now, pool: g, then: "stopping, then requeued")
        event.detail = event.job.message
        return event
    }

    /// A victim's preemption counted (against the pool's rate and the job's damping) and named.
    private mutating func countPreemption(of job: Job, by preemptor: Job, at now: Instant, pool g: Int,
                                          then what: String) -> Job {
        recentPreemptions[g].removeAll { $0 <= now.advanced(bySeconds: -60) }
        recentPreemptions[g].append(now)
        var victim = job
        victim.preemptions += 1
        victim.preemptedBy.append(preemptor.id)
        if victim.preemptions >= topology.settings.maxPreemptionsPerJob { victim.demand.preemptible = false }
        let cls = topology.classes[preemptor.demand.classIndex].id
        victim.message = "preempted by \(preemptor.id) (\(cls), tenant \(preemptor.tenant)); \(what)"
        jobs[victim.id] = victim
        return victim
    }
}
