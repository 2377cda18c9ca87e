extension SchedulerState {
    /// Accepts a job: validates it, rejects one that no data centre could ever hold, and queues it.
    /// Returns the `submitted` event (its `job` is the accepted job).
    public mutating func submit(_ spec: JobSpec, now: Instant) throws(SchedulerError) -> Event {
        try checkIDsLeft(1)
        let demand = try admit(spec, tenant: spec.tenant ?? "default")
        try checkDependencies(spec, ownID: JobID(nextJobNumber), batchStart: JobID(nextJobNumber))
        return accept(spec, demand: demand, now: now)
    }

    /// Accepts all of `specs` or none: every spec is checked before any is queued. Each spec's
    /// demand is built once, by the check, and kept for its job (a batch of 10,000 jobs spent a
    /// third of its time building every demand a second time).
    public mutating func submitBatch(_ specs: [JobSpec], now: Instant) throws(SchedulerError) -> [Event] {
        guard specs.count <= SpecBounds.maxBatchJobs else {
            throw .invalidJob(field: "jobs", reason: "at most \(SpecBounds.maxBatchJobs) jobs in one batch, not \(specs.count)")
        }
        // Before any id arithmetic below: `nextJobNumber + count` stays within the ids.
        try checkIDsLeft(specs.count)
        // New tenants are interned in a copy, kept only once every spec has passed: the same
        // table, in the same order, as submitting them one by one would leave.
        var scratch = tenants
        var demands: [Demand] = []
        demands.reserveCapacity(specs.count)
        for (i, spec) in specs.enumerated() {
            do {
                let t = scratch.intern(spec.tenant ?? "default", topology: topology)
                demands.append(try Self.demand(for: spec, tenantIndex: t, topology: topology, ceiling: scratch.ceilings[t],
                                               stack: stack, sites: staticSites, rtt: rtt))
                try checkDependencies(spec, ownID: JobID(nextJobNumber + UInt64(i)), batchStart: JobID(nextJobNumber),
                                      batchEnd: JobID(nextJobNumber + UInt64(specs.count)))
            } catch {
                if case .invalidJob(let field, let reason) = error {
                    throw .invalidJob(field: "jobs[\(i)].\(field)", reason: reason)
                }
                throw error
            }
        }
        tenants = scratch
        var events: [Event] = []
        events.reserveCapacity(specs.count)
        for (spec, demand) in zip(specs, demands) { events.append(accept(spec, demand: demand, now: now)) }
        return events
    }

    /// Refuses when fewer than `count` ids are left below `JobID.largest`.
    private func checkIDsLeft(_ count: Int) throws(SchedulerError) {
        let largest = JobID.largest.rawValue
        guard nextJobNumber <= largest, UInt64(max(0, count)) <= largest - nextJobNumber + 1 else {
            throw .unschedulable(reason: "the job ids are exhausted: the next would be job-\(nextJobNumber), and "
                + "\(JobID.largest) is the largest a store keeps")
        }
    }

    /// Queues a checked spec with its demand: the next id, its dependencies, the queue, its
    /// deadline. Nothing here can fail.
    private mutating func accept(_ spec: JobSpec, demand: Demand, now: Instant) -> Event {
        let tenant = spec.tenant ?? "default"
        let id = JobID(nextJobNumber)
        nextJobNumber += 1
        var resolved = spec
        resolved.tenant = tenant
        var job = Job(id: id, spec: resolved, tenant: tenant, submittedAt: now, demand: demand)
        registerDependencies(&job)
        jobs[id] = job
        enqueue(job)
        trackDeadline(job)
        return Event(kind: .submitted, at: now, job: job)
    }

    /// Validates a spec as `submit` would, changing nothing.
    public func check(_ spec: JobSpec) throws(SchedulerError) {
        try checkIDsLeft(1)
        try checkFields(spec)
        try checkDependencies(spec, ownID: JobID(nextJobNumber), batchStart: JobID(nextJobNumber))
    }

    /// Everything `check` does but the dependency checks.
    func checkFields(_ spec: JobSpec) throws(SchedulerError) {
        var scratch = tenants
        let tenant = spec.tenant ?? "default"
        _ = try Self.demand(for: spec, tenantIndex: scratch.intern(tenant, topology: topology),
                            topology: topology, ceiling: topology.tenantPolicy(for: tenant).ceiling,
                            stack: stack, sites: staticSites, rtt: rtt)
    }

    /// The next id `submit` will assign.
    public var nextJobID: JobID { JobID(nextJobNumber) }

    mutating func admit(_ spec: JobSpec, tenant: String) throws(SchedulerError) -> Demand {
        let t = tenants.intern(tenant, topology: topology)
        return try Self.demand(for: spec, tenantIndex: t, topology: topology, ceiling: tenants.ceilings[t],
                               stack: stack, sites: staticSites, rtt: rtt)
    }

    /// Puts a pending job in the queue at its time-invariant rank (its original submit time keeps
    /// its aging across requeues).
    mutating func enqueue(_ job: Job) {
        // Joins when its dependencies succeed. (isEmpty first: most hubs never hash here.)
        guard unmetDependencies.isEmpty || unmetDependencies[job.id] == nil else { return }
        trackAtRisk(job)
        let rank = ordering.rank(priority: job.demand.priority, submittedAt: job.submittedAt,
                                 classIndex: job.demand.classIndex)
        queue.insert(job.id, rank: rank, classIndex: job.demand.classIndex,
                     tenantIndex: job.demand.tenantIndex)
    }

    /// Resolves a spec's names against the topology and interns it. Throws only for names the
    /// topology does not know, not for values (`checkBounds`) or capacity (`admit`).
    static func buildDemand(for spec: JobSpec, tenantIndex: Int, topology: Topology) throws(SchedulerError) -> Demand {
        guard let origin = topology.regionIndex(of: spec.origin) else {
            throw .invalidJob(field: "origin", reason: "unknown region '\(spec.origin)' (known: "
                + topology.regions.map(\.id).joined(separator: ", ") + ")")
        }
        guard let classIndex = topology.classIndex(of: spec.priorityClass) else {
            throw .invalidJob(field: "priorityClass", reason: "unknown class '\(spec.priorityClass)' (known: "
                + topology.classes.map(\.id).joined(separator: ", ") + ")")
        }
        let r = spec.resources
        var mask: UInt64 = 0
        if let allowed = spec.datacenters {
            guard !allowed.isEmpty else {
                throw .invalidJob(field: "datacenters", reason: "is empty; omit it to allow every data centre")
            }
            for (i, id) in allowed.enumerated() {
                guard let d = topology.datacenterIndex(of: id) else {
                    throw .invalidJob(field: "datacenters[\(i)]", reason: "unknown data centre '\(id)'")
                }
                mask |= 1 << UInt64(d)
            }
        } else {
            mask = topology.datacenters.count >= 64 ? ~0 : (1 << UInt64(topology.datacenters.count)) - 1
        }
        var modelIndex = -1
        if let model = r.acceleratorModel {
            guard let m = topology.acceleratorModels[model] else {
                throw .unschedulable(reason: "no pool has accelerator model '\(model)' (known: "
                    + topology.acceleratorModels.keys.sorted().joined(separator: ", ") + ")")
            }
            modelIndex = m
        }
        let cls = topology.classes[classIndex]
        let total = r.vector.scaled(by: spec.replicas)
        return Demand(
            total: total, perReplica: r.vector, replicas: spec.replicas, classIndex: classIndex, tenantIndex: tenantIndex, originIndex: origin,
            modelIndex: modelIndex, wantsAccelerators: r.accelerators > 0,
            latencyBudgetMs: spec.maxLatencyMs ?? cls.defaultLatencyMs, residencyMask: mask,
            preemptible: spec.preemptible ?? cls.preemptibleByDefault,
            estimatedSeconds: spec.durationSeconds ?? topology.settings.defaultDurationSeconds,
            priority: spec.priority, needsAgents: spec.runsCommand)
    }

    /// `SpecBounds` checks, `buildDemand`, then the admission checks: the job alone within its
    /// tenant's ceiling (quota plus borrow limit), and some pool able to hold it when the hub is
    /// empty. Only new jobs pass through here: a restore re-admits stored jobs without the bounds,
    /// so tightening a bound never loses an accepted job.
    static func demand(for spec: JobSpec, tenantIndex: Int, topology: Topology, ceiling: Resources?,
                       stack: PlacementStack, sites: [PoolSite], rtt: [[Double]]) throws(SchedulerError) -> Demand {
        try checkBounds(spec, settings: topology.settings)
        let demand = try buildDemand(for: spec, tenantIndex: tenantIndex, topology: topology)
        try admit(demand, spec, topology: topology, ceiling: ceiling, stack: stack, sites: sites, rtt: rtt)
        return demand
    }

    /// The admission checks alone, for a demand already built.
    static func admit(_ demand: Demand, _ spec: JobSpec, topology: Topology, ceiling: Resources?,
                      stack: PlacementStack, sites: [PoolSite], rtt: [[Double]]) throws(SchedulerError) {
        if let ceiling, let resource = demand.total.firstExceeded(ceiling) {
            throw .quotaExceeded(tenant: spec.tenant ?? "default", resource: resource)
        }
        if case .blocked(let stage, _)? = stack.couldEverPlace(demand, sites: sites, rtt: rtt),
           !(stage == .size && couldEverSplit(demand, sites: sites, rtt: rtt)) {
            throw .unschedulable(reason: Self.neverReason(stage, demand, spec, topology, sites, rtt))
        }
    }

    /// Component-wise largest capacity among the pools that pass every static check but size.
    static func largestEligiblePool(_ d: Demand, _ sites: [PoolSite], _ rtt: [[Double]]) -> Resources {
        var most = Resources.zero
        for site in sites {
            let r = rtt[site.ref.datacenter][d.originIndex]
            guard FeasibilityCheck.staticStages.allSatisfy({ $0 == .size || $0.passes(d, site, rtt: r, free: site.capacity) })
            else { continue }
            most = Resources(milliCPU: max(most.milliCPU, site.capacity.milliCPU),
                             memoryMiB: max(most.memoryMiB, site.capacity.memoryMiB),
                             accelerators: max(most.accelerators, site.capacity.accelerators))
        }
        return most
    }

    static func neverReason(_ stage: FeasibilityCheck, _ d: Demand, _ spec: JobSpec, _ t: Topology,
                            _ sites: [PoolSite], _ rtt: [[Double]]) -> String {
        switch stage {
        case .residency: "no allowed data centre"
        case .accelerator:
            spec.resources.accelerators > 0
                ? "no pool in an allowed data centre has accelerator model \(spec.resources.acceleratorModel ?? "(any)")"
                : "no general CPU pool in an allowed data centre"
        case .executor:
            d.needsAgents
                ? "it has a command, and no allowed data centre runs work on site agents (executor = \"agents\")"
                : "it has no command, and every allowed data centre runs work on site agents: give it a command"
        case .latency: "no allowed data centre is within \(formatNumber(d.latencyBudgetMs)) ms of \(spec.origin)"
        case .size, .datacenterState, .agent, .fits:
            "asks for \(d.total)\(d.replicas > 1 ? " (\(d.replicas) replicas of \(d.perReplica))" : ""), more than "
                + "any pool that meets its other constraints holds, or its data centre over all its pools of that "
                + "kind (the largest such pool: \(largestEligiblePool(d, sites, rtt)))"
        }
    }
}
