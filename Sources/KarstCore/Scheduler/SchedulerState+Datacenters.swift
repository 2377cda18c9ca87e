extension SchedulerState {
    /// Stops new placements in a data centre; running jobs finish where they are.
    public mutating func drain(_ datacenter: String) throws(SchedulerError) -> DatacenterUsage {
        try setState(datacenter, .draining)
    }

    /// Drains a data centre and ends what runs there (drain with kill): modelled runs are
    /// requeued at once; site agents are asked to stop theirs, each requeued when its agent
    /// confirms (or is lost). Attempts are counted, submit times kept for aging.
    public mutating func drainStopping(_ datacenter: String, now: Instant) throws(SchedulerError)
        -> (DatacenterUsage, [Event])
    {
        try evacuate(datacenter, into: .draining, reason: .drained, detail: "drained with its runs stopped", now: now)
    }

    /// Lets a drained or offline data centre take new work again.
    public mutating func resume(_ datacenter: String) throws(SchedulerError) -> DatacenterUsage {
        try setState(datacenter, .active)
    }

    /// Marks a data centre as down: every job running there goes back to the queue (its attempt
    /// counted, its original submit time kept for aging). Returns the `requeued` events.
    public mutating func setOffline(_ datacenter: String, now: Instant) throws(SchedulerError)
        -> (DatacenterUsage, [Event])
    {
        try evacuate(datacenter, into: .offline, reason: .offline, detail: "offline", now: now)
    }

    /// Puts a data centre in `state` and ends every run there: requeued, or for an agent's run,
    /// asked to stop.
    private mutating func evacuate(_ datacenter: String, into state: DatacenterState, reason: AgentBook.StopReason,
                                   detail: String, now: Instant) throws(SchedulerError) -> (DatacenterUsage, [Event]) {
        let d = try index(of: datacenter)
        datacenterStates[d] = state
        queue.unparkAll()
        var victims: [JobID] = []
        jobs.forEach { id, job in
            if job.state == .running, job.placement?.datacenter == d { victims.append(id) }
        }
        var events: [Event] = []
        for id in victims {
            // An agent's run is asked to stop; it is requeued when the agent confirms (or is lost).
            if let stopping = try stopAgentRun(id, reason: reason, now: now) {
                events.append(stopping)
                continue
            }
            let job = try transition(id, .requeue, now: now)
            events.append(Event(kind: .requeued, at: now, job: job, detail: "datacenter \(datacenter) \(detail)"))
        }
        return (usage[d], events)
    }

    /// Per data centre: whether a site agent of it is live (where agents execute, the data
    /// centre takes new work only while one is: `datacenter-unavailable:no agent` otherwise).
    public var agentsLive: [Bool] { topology.datacenters.map { agents.canLease(in: $0.id) } }

    /// Whether data centre `d` takes new placements now: active, and where agents execute, one
    /// of them live.
    func takesWork(_ d: Int) -> Bool {
        let dc = topology.datacenters[d]
        return datacenterStates[d] == .active && (dc.executor == .model || agents.canLease(in: dc.id))
    }

    private mutating func setState(_ datacenter: String, _ state: DatacenterState) throws(SchedulerError)
        -> DatacenterUsage
    {
        let d = try index(of: datacenter)
        datacenterStates[d] = state
        queue.unparkAll()  // jobs parked for want of an active data centre (or a shift) are judged again
        return usage[d]
    }

    private func index(of datacenter: String) throws(SchedulerError) -> Int {
        guard let d = topology.datacenterIndex(of: datacenter) else { throw .noSuchDatacenter(datacenter) }
        return d
    }
}
