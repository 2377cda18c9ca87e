extension SchedulerState {
    /// Applies one lifecycle trigger to a job and performs the actions the state machine asks for.
    /// `pool` is where to allocate for `.place` (`shards` when a gang is split over pools;
    /// `borrowed` when the run uses capacity beyond its tenant's quota).
    /// Returns the job as it is afterwards.
    @discardableResult
    mutating func transition(_ id: JobID, _ trigger: JobLifecycle.Trigger, now: Instant,
                             pool: PoolRef? = nil, shards: [PoolShard] = [],
                             borrowed: Bool = false) throws(SchedulerError) -> Job {
        guard var job = jobs[id] else { throw .noSuchJob(id: id.description) }
        guard let (next, actions) = JobLifecycle.on(trigger, in: job.state) else {
            throw .invalidTransition(id: id, state: job.state)
        }
        let wasRunningIn = job.placement
        job.state = next
        for action in actions {
            switch action {
            case .dequeue:
                queue.remove(id)
            case .enqueue:
                job.pendingReason = .priority
                job.estimatedStart = nil
                enqueue(job)
            case .allocate:
                guard let pool else { preconditionFailure("place without a pool") }
                job.placement = pool
                job.shards = shards
                let g = flatIndex(pool)
                if shards.isEmpty {
                    allocated[g] += job.demand.total
                } else {
                    for (ref, r) in job.allocations { allocated[flatIndex(ref)] += r }
                }
                tenants.usage[job.demand.tenantIndex] += job.demand.total
                job.estimatedStart = nil
                job.attempts += 1
                job.startedAt = now
                job.finishedAt = nil
                job.pendingReason = nil
                job.borrowed = borrowed
                job.runningSlot = addRunning(job, to: g)
            case .releaseCapacity:
                tenants.usage[job.demand.tenantIndex] -= job.demand.total
                if let ref = wasRunningIn {
                    let g = flatIndex(ref)
                    if job.shards.isEmpty {
                        allocated[g] -= job.demand.total
                    } else {
                        for (shard, r) in job.allocations { allocated[flatIndex(shard)] -= r }
                    }
                    removeRunning(Int(job.runningSlot), from: g)
                    job.runningSlot = -1
                } else {
                    job.retiredPool = nil  // it ran in a pool a reload removed: nothing to free there
                }
            case .armTimer:
                // A command's run ends when its executor says so; its duration is an estimate.
                if let d = job.spec.durationSeconds, !job.spec.runsCommand {
                    timers.arm(id, attempt: job.attempts, due: now.advanced(bySeconds: d))
                }
            case .disarmTimer:
                break  // lazy: a due timer for a job no longer in that attempt is dropped
            }
        }
        if next == .held { job.pendingReason = .held }
        if next == .pending, !unmetDependencies.isEmpty, let dep = firstUnmetDependency(of: job) {
            job.pendingReason = .dependency(on: dep)
        }
        if next.isTerminal { job.finishedAt = now; job.pendingReason = nil; job.estimatedStart = nil }
        jobs[id] = job
        if next.isTerminal, !unmetDependencies.isEmpty || !dependents.isEmpty {
            settleDependents(of: id, succeeded: next == .succeeded)
        }
        return job
    }

    /// Adds a job running in pool `g` (its placement, started at `startedAt`) to the pool's
    /// running lists, releasing its share of the pool at its expected end; the caller stores the
    /// returned slot in the job.
    mutating func addRunning(_ job: Job, to g: Int) -> Int32 {
        let release = Release(at: (job.startedAt ?? Instant(microseconds: 0)).advanced(bySeconds: job.demand.estimatedSeconds),
                              amount: job.allocation(in: poolRefs[g]))
        running[g].append(RunningEntry(job, release: release))
        runningEnds[g].insert(EndOrder.Entry(at: release.at, job: job.id, amount: release.amount))
        return Int32(running[g].count - 1)
    }

    /// Swap-removes the entry at `slot` of pool `g`'s running list, fixing the moved job's slot.
    private mutating func removeRunning(_ slot: Int, from g: Int) {
        guard slot >= 0, slot < running[g].count else { return }
        runningEnds[g].remove(at: running[g][slot].release.at, job: running[g][slot].id)
        let last = running[g].removeLast()
        guard slot < running[g].count else { return }
        running[g][slot] = last
        jobs.update(last.id) { $0.runningSlot = Int32(slot) }
    }

    /// Cancels a pending, held or running job.
    /// A site agent's run is asked to stop instead (`stopping`), and is cancelled when the agent
    /// confirms.
    public mutating func cancel(_ id: JobID, now: Instant) throws(SchedulerError) -> Event {
        if let stopping = try stopAgentRun(id, reason: .cancelled, now: now) { return stopping }
        return Event(kind: .cancelled, at: now, job: try transition(id, .cancel, now: now))
    }

    /// Holds a pending job: it keeps its place in line but is not scheduled until released.
    public mutating func hold(_ id: JobID, now: Instant) throws(SchedulerError) -> Event {
        Event(kind: .held, at: now, job: try transition(id, .hold, now: now))
    }

    /// Releases a held job back into the queue at its original rank.
    public mutating func release(_ id: JobID, now: Instant) throws(SchedulerError) -> Event {
        Event(kind: .released, at: now, job: try transition(id, .release, now: now))
    }

    /// An executor reports the end of a running job. A failure is retried (the job is requeued)
    /// while `attempts ≤ maxRetries`.
    public mutating func complete(_ id: JobID, succeeded: Bool, message: String? = nil,
                                  now: Instant) throws(SchedulerError) -> Event {
        guard let job = jobs[id] else { throw .noSuchJob(id: id.description) }
        if let lease = agents.lease(of: id) {
            throw .agentRefused(agent: lease.agent.name, reason: "\(id) runs on it: its end comes from the agent's report of \(lease.run)")
        }
        if succeeded {
            var done = try transition(id, .succeed, now: now)
            done.message = message
            jobs[id] = done
            return Event(kind: .succeeded, at: now, job: done, detail: message)
        }
        let retry = job.attempts <= job.spec.maxRetries
        var after = try transition(id, .fail(retry: retry), now: now)
        after.message = message
        jobs[id] = after
        if retry {
            let detail = "run \(job.attempts) failed\(message.map { ": \($0)" } ?? ""); "
                + "retry \(job.attempts) of \(job.spec.maxRetries)"
            return Event(kind: .requeued, at: now, job: after, detail: detail)
        }
        return Event(kind: .failed, at: now, job: after, detail: message)
    }
}
