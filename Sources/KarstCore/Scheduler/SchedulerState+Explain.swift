/// Explaining the queue: why a job waits, where it stands, what comes first.
extension SchedulerState {
    /// How deep position counting goes: a job further back has no position (it is
    /// "beyond 50000"), so a lookup never holds the engine for long.
    public static let positionLimit = 50_000

    /// 1-based positions of the queued jobs, in the order the next pass examines them if nothing
    /// were placed (class; at-risk deadlines first; fair-share tenant; priority + aging), up to
    /// `positionLimit`. Jobs out of the queue (waiting for dependencies, held, running) and jobs
    /// parked until their window opens or their shifted hour comes have none.
    public mutating func queuePositions() -> [JobID: Int] {
        let order = examinationOrder()
        var out: [JobID: Int] = [:]
        out.reserveCapacity(order.count)
        for (i, id) in order.enumerated() { out[id] = i + 1 }
        return out
    }

    /// The position of one job (see `queuePositions`); nil when it is not queued or too deep.
    public mutating func queuePosition(of id: JobID) -> Int? {
        guard queue.isInLine(id) else { return nil }
        let order = examinationOrder(stoppingAt: id)
        return order.last == id ? order.count : nil
    }

    /// Queued ids in examination order, up to and including `stop`, at most `positionLimit`.
    private mutating func examinationOrder(stoppingAt stop: JobID? = nil) -> [JobID] {
        let usage = tenants.usage, weights = tenants.weights, total = totalCapacity
        var urgentByClass: [[JobID]] = Array(repeating: [], count: topology.classes.count)
        var urgent = Set<JobID>()
        for e in deadlines.atRisk where queue.isInLine(e.id) {
            urgentByClass[e.classIndex].append(e.id)
            urgent.insert(e.id)
        }
        var order: [JobID] = []
        var flushed = 0
        var found = false
        func emitUrgent(through c: Int) {
            while flushed <= c, !found {
                for id in urgentByClass[flushed] where !found {
                    order.append(id)
                    found = id == stop
                }
                flushed += 1
            }
        }
        var popped: [QueueEntry] = []
        while !found, order.count < Self.positionLimit,
              let entry = queue.popNext(share: { usage[$0].dominantShare(of: total) / weights[$0] }) {
            popped.append(entry)
            emitUrgent(through: Int(entry.classIndex))
            if !found, !urgent.contains(entry.id) {
                order.append(entry.id)
                found = entry.id == stop
            }
        }
        queue.restore(popped)
        emitUrgent(through: topology.classes.count - 1)
        if order.count > Self.positionLimit { order.removeLast(order.count - Self.positionLimit) }
        return order
    }

    /// The job the next pass examines first (the head of the queue), without changing anything
    /// but the deadline bookkeeping (with `now`, jobs that became at risk by then are counted).
    public mutating func queueHead(now: Instant? = nil) -> JobID? {
        if let now { refreshAtRisk(now: now) }
        if let first = deadlines.atRisk.first(where: { queue.contains($0.id) }),
           first.classIndex <= (queue.firstActiveClass ?? Int.max) {
            return first.id
        }
        let usage = tenants.usage, weights = tenants.weights, total = totalCapacity
        guard let entry = queue.popNext(share: { usage[$0].dominantShare(of: total) / weights[$0] }) else {
            return nil
        }
        queue.restore([entry])
        return entry.id
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
        case .agent:
            return .noAgent
        case .executor:
            return .executor(needsAgents: d.needsAgents)
        case .latency:
            return .latency(region: topology.regions[d.originIndex].id, budgetMs: d.latencyBudgetMs)
        case .accelerator, .residency, .size:
            // Ruled out at submission; reachable only after a reconfiguration removed pools.
            return .accelerator(model: d.modelIndex >= 0
                ? topology.acceleratorModels.first { $0.value == d.modelIndex }?.key ?? "?" : "any")
        }
    }
}
