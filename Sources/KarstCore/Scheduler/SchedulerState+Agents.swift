/// Site agents: their connections and reports, and what they mean for the jobs they run. The
/// lease bookkeeping is `AgentBook`'s; this turns its answers into job transitions and events.
extension SchedulerState {
    /// An agent of `datacenter` connects: it is live from now on. Returns its session and the
    /// leases it holds (to start those it does not run, and kill what it runs that is not there).
    public mutating func connectAgent(_ agent: String, datacenter: String,
                                      now: Instant) throws(SchedulerError) -> (session: UInt64, leases: [AgentBook.Lease]) {
        guard let d = topology.datacenterIndex(of: datacenter) else { throw .noSuchDatacenter(datacenter) }
        guard topology.datacenters[d].executor == .agents else {
            throw .agentRefused(agent: agent, reason: "data centre \(datacenter) runs work on the modelled executor, "
                + "not on agents (its executor is \"model\")")
        }
        do {
            let connected = try agents.connect(AgentID(agent), datacenter: datacenter, now: now)
            queue.unparkAll()
            return connected
        } catch {
            throw Self.refusal(error)
        }
    }

    /// The agent's connection `session` closed.
    public mutating func disconnectAgent(_ agent: String, session: UInt64) {
        agents.disconnected(AgentID(agent), session: session)
    }

    /// A heartbeat.
    public mutating func agentReport(_ agent: String, session: UInt64, now: Instant) throws(SchedulerError) {
        do { try agents.heard(AgentID(agent), session: session, now: now) } catch { throw Self.refusal(error) }
    }

    /// The agent started `run` under the site's `siteID` (its output at `output`, held to
    /// `limits`): let it run, or kill it. What it said is kept with the job (`lastRun`); the
    /// first report of a run is a `started` event (an agent reports its runs again after it
    /// reconnects: those change nothing).
    public mutating func agentStarted(_ agent: String, session: UInt64, run: RunID, siteID: String,
                                      output: String? = nil, limits: String? = nil,
                                      now: Instant) throws(SchedulerError) -> (AgentBook.StartAnswer, Event?) {
        let answer: AgentBook.StartAnswer
        do { answer = try agents.started(AgentID(agent), session: session, run: run, siteID: siteID, now: now) } catch {
            throw Self.refusal(error)
        }
        guard agents.lease(of: run.job)?.run == run, var job = jobs[run.job] else { return (answer, nil) }
        let place = RunPlace(agent: agent, attempt: run.attempt, siteID: siteID, output: output, limits: limits)
        guard job.lastRun != place else { return (answer, nil) }
        let first = job.lastRun?.attempt != run.attempt
        job.lastRun = place
        jobs[run.job] = job
        return (answer, first ? Event(kind: .started, at: now, job: job, detail: "\(siteID) on \(agent)") : nil)
    }

    /// The agent reports `run` ended. The first report of the current attempt ends the job's run
    /// (its capacity freed): succeeded; failed (retried while retries remain); for a run that
    /// was stopping and did not succeed, the stop's end (cancelled, or requeued); for a run its
    /// agent's fence killed, requeued.
    public mutating func agentEnded(_ agent: String, session: UInt64, run: RunID, outcome: AgentBook.RunOutcome,
                                    now: Instant) throws(SchedulerError) -> (AgentBook.EndAnswer, [Event]) {
        let answer: AgentBook.EndAnswer
        do { answer = try agents.ended(AgentID(agent), session: session, run: run, outcome: outcome, now: now) } catch {
            throw Self.refusal(error)
        }
        guard case .accepted(let stopped) = answer else { return (answer, []) }
        let message = outcome.message ?? outcome.exitStatus.map { "exit status \($0)" }
        if let stopped, !outcome.succeeded {
            return (answer, [try endStopped(run.job, reason: stopped, cause: "run \(run.attempt) stopped on \(agent)", now: now)])
        }
        if outcome.fenced, !outcome.succeeded {
            return (answer, [try endStopped(run.job, reason: nil, cause: "run \(run.attempt) killed by \(agent)'s fence "
                + "(it had lost the daemon)", now: now)])
        }
        return (answer, [try complete(run.job, succeeded: outcome.succeeded, message: message, now: now)])
    }

    /// Asks the agent running `job` to stop it for `reason`: the job is `stopping`, its capacity
    /// held until the agent confirms. Nil when the job has no agent's run to stop.
    mutating func stopAgentRun(_ job: JobID, reason: AgentBook.StopReason, now: Instant) throws(SchedulerError) -> Event? {
        guard let order = agents.stop(job, reason: reason) else { return nil }
        let current = jobs[job]?.state
        let after = current == .running ? try transition(job, .stop, now: now) : jobs[job]!
        return Event(kind: .stopping, at: now, job: after, detail: "\(reason.rawValue): asked \(order.agent) to stop \(order.run)")
    }

    /// Ends a run that will not end by itself any more, as its stop meant: a cancellation
    /// cancels the job; anything else (offline, drained, preempted, or no stop: its agent was
    /// lost) puts it back in the queue as a new attempt.
    private mutating func endStopped(_ id: JobID, reason: AgentBook.StopReason?, cause: String,
                                     now: Instant) throws(SchedulerError) -> Event {
        if reason == .cancelled {
            return Event(kind: .cancelled, at: now, job: try transition(id, .cancel, now: now), detail: cause)
        }
        let detail = reason.map { "\(cause) (\($0.rawValue))" } ?? cause
        var job = try transition(id, .requeue, now: now)
        if reason != .preempted {  // a preempted job's message already names its preemptor
            job.message = "requeued: " + detail
            jobs[id] = job
        }
        return Event(kind: .requeued, at: now, job: job, detail: detail)
    }

    /// Agents silent too long: suspected (no new runs) or lost (their runs end here: requeued as
    /// new attempts, or a cancellation finished).
    mutating func noticeAgentSilence(now: Instant, into events: inout [Event]) {
        for change in agents.tick(now: now) {
            guard case .lost(let agent, let leases) = change else { continue }
            for lease in leases {
                guard let job = jobs[lease.run.job], job.state.holdsCapacity, job.attempts == lease.run.attempt else { continue }
                let cause = "agent \(agent) lost with run \(lease.run.attempt)"
                if let e = try? endStopped(lease.run.job, reason: lease.stopReason, cause: cause, now: now) {
                    events.append(e)
                }
            }
        }
    }

    private static func refusal(_ error: AgentBook.AgentError) -> SchedulerError {
        switch error {
        case .unknownAgent(let a): .agentRefused(agent: a.name, reason: "unknown: connect first")
        case .staleSession(let a): .agentRefused(agent: a.name, reason: "a newer connection of this agent exists: stop using this one")
        case .lost(let a): .agentRefused(agent: a.name, reason: "declared lost; its runs were requeued: kill every run and connect again")
        case .wrongDatacenter(let a, let serves): .agentRefused(agent: a.name, reason: "serves \(serves) and still holds runs there")
        }
    }
}
