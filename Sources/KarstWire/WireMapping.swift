import KarstCore
import KarstProtocol

/// The one mapping between the control protocol's wire types (generated from the IDL) and the
/// core's: the daemon answers with it, karstctl and the simulator build specs with it, the store
/// keeps a job's spec in its wire form through it. Time fields are parsed here, so a malformed
/// timestamp is an `InvalidParameter` naming its field.
public enum WireMapping {
    /// The core's spec of a wire spec found at `path` (`job`, `jobs[3]`).
    public static func spec(_ w: WireJobSpec, path: String) throws(VarlinkError) -> JobSpec {
        func time(_ value: String?, _ field: String) throws(VarlinkError) -> Instant? {
            guard let value else { return nil }
            guard let t = Instant(rfc3339: value) else { throw .invalidParameter("\(path).\(field)") }
            return t
        }
        var deps: [JobID] = []
        for (i, d) in (w.dependsOn ?? []).enumerated() {
            guard let id = JobID(d) else { throw .invalidParameter("\(path).dependsOn[\(i)]") }
            deps.append(id)
        }
        return JobSpec(
            name: w.name, tenant: w.tenant, origin: w.origin, priorityClass: w.priorityClass,
            priority: w.priority ?? 0,
            resources: ResourceRequest(cpu: w.resources.cpu, memoryGiB: w.resources.memoryGiB,
                                       accelerators: w.resources.accelerators ?? 0,
                                       acceleratorModel: w.resources.acceleratorModel),
            replicas: w.replicas ?? 1, durationSeconds: w.durationSeconds,
            maxLatencyMs: w.maxLatencyMs.map(Double.init), datacenters: w.datacenters,
            preemptible: w.preemptible, deadline: try time(w.deadline, "deadline"),
            notBefore: try time(w.notBefore, "notBefore"), notAfter: try time(w.notAfter, "notAfter"),
            dependsOn: deps, maxRetries: w.maxRetries ?? 0, labels: w.labels ?? [:],
            command: w.command ?? [], environment: w.environment ?? [:], workingDirectory: w.workingDirectory)
    }

    /// The wire spec of a core spec: defaults (priority 0, one replica, no labels, no command, …)
    /// left out.
    public static func spec(_ s: JobSpec) -> WireJobSpec {
        let r = s.resources
        return WireJobSpec(
            name: s.name, tenant: s.tenant, origin: s.origin, priorityClass: s.priorityClass,
            priority: s.priority == 0 ? nil : s.priority,
            resources: WireResources(cpu: r.cpu, memoryGiB: r.memoryGiB,
                                     accelerators: r.accelerators == 0 ? nil : r.accelerators,
                                     acceleratorModel: r.acceleratorModel),
            replicas: s.replicas == 1 ? nil : s.replicas, durationSeconds: s.durationSeconds,
            maxLatencyMs: s.maxLatencyMs.map { Int($0.rounded()) }, datacenters: s.datacenters,
            preemptible: s.preemptible, deadline: s.deadline?.rfc3339, notBefore: s.notBefore?.rfc3339,
            notAfter: s.notAfter?.rfc3339, dependsOn: s.dependsOn.isEmpty ? nil : s.dependsOn.map(\.description),
            maxRetries: s.maxRetries == 0 ? nil : s.maxRetries, labels: s.labels.isEmpty ? nil : s.labels,
            command: s.command.isEmpty ? nil : s.command, environment: s.environment.isEmpty ? nil : s.environment,
            workingDirectory: s.workingDirectory)
    }

    /// A job as the state has it now.
    public static func job(_ j: Job, in state: borrowing SchedulerState, queuePosition: Int? = nil) -> WireJob {
        job(JobSnapshot(j, in: state, queuePosition: queuePosition))
    }

    /// A job as a snapshot caught it.
    public static func job(_ s: JobSnapshot) -> WireJob {
        let j = s.job
        var wire = WireJob(
            id: j.id.description, spec: spec(j.spec), state: j.state.rawValue, datacenter: s.datacenter,
            pool: s.pool, submittedAt: j.submittedAt.rfc3339, startedAt: j.startedAt?.rfc3339,
            finishedAt: j.finishedAt?.rfc3339, pendingReason: j.pendingReason?.description,
            queuePosition: s.queuePosition, estimatedStart: j.state == .pending ? j.estimatedStart?.rfc3339 : nil,
            attempts: j.attempts, preemptions: j.preemptions, message: j.message)
        if !j.shards.isEmpty {
            wire.shards = zip(j.shards, s.shardPools).map { WireShard(pool: $1, replicas: $0.replicas) }
        }
        if j.borrowed, j.state.holdsCapacity { wire.borrowed = true }
        wire.agent = s.agent
        wire.siteID = s.siteID
        wire.output = j.lastRun?.output
        wire.limits = j.lastRun?.limits
        return wire
    }

    /// A job as a listing's row shows it (`ListSummaries`): `job(_:in:queuePosition:)`'s members
    /// that a table prints, with the same values; the tenant is the one charged (the spec's,
    /// resolved at submission).
    public static func summary(_ j: Job, in state: borrowing SchedulerState, queuePosition: Int? = nil) -> WireJobSummary {
        let place = JobSnapshot.place(of: j, in: state)
        var wire = WireJobSummary(
            id: j.id.description, tenant: j.tenant, priorityClass: j.spec.priorityClass, state: j.state.rawValue,
            datacenter: place.datacenter, pool: place.pool, submittedAt: j.submittedAt.rfc3339,
            queuePosition: queuePosition, estimatedStart: j.state == .pending ? j.estimatedStart?.rfc3339 : nil,
            pendingReason: j.pendingReason?.description)
        if !j.shards.isEmpty {
            wire.shards = zip(j.shards, place.shardPools).map { WireShard(pool: $1, replicas: $0.replicas) }
        }
        return wire
    }

    /// Capacity in the protocol's units (cores, GiB).
    public static func capacity(_ r: Resources) -> WireCapacity {
        WireCapacity(cpu: r.cpu, memoryGiB: r.memoryGiB, accelerators: Int(r.accelerators))
    }

    /// A data centre's state, pools and use.
    public static func datacenter(_ u: DatacenterUsage, in topology: Topology) -> WireDatacenter {
        let dc = topology.datacenters[topology.datacenterIndex(of: u.id)!]
        return WireDatacenter(
            id: u.id, name: dc.name, operator: dc.operatorName, state: u.state.rawValue, pue: dc.pue,
            pools: u.pools.map { p in
                WirePool(id: p.id, acceleratorModel: p.acceleratorModel, capacity: capacity(p.capacity),
                         allocated: capacity(p.allocated), free: capacity(p.free), running: p.running)
            })
    }

    /// The protocol error for a core error.
    public static func error(_ e: SchedulerError) -> VarlinkError {
        switch e {
        case .invalidJob(let field, let reason):
            SchedulerInterface.InvalidJob(field: field, reason: reason).varlinkError
        case .unschedulable(let reason):
            SchedulerInterface.Unschedulable(reason: reason).varlinkError
        case .quotaExceeded(let tenant, let resource):
            SchedulerInterface.QuotaExceeded(tenant: tenant, resource: resource).varlinkError
        case .noSuchJob(let id):
            SchedulerInterface.NoSuchJob(id: id).varlinkError
        case .invalidTransition(let id, let state):
            SchedulerInterface.InvalidTransition(id: id.description, state: state.rawValue).varlinkError
        case .noSuchDatacenter(let dc):
            AdminInterface.NoSuchDatacenter(datacenter: dc).varlinkError
        case .agentRefused(let agent, let reason):
            SchedulerInterface.AgentRefused(agent: agent, reason: reason).varlinkError
        }
    }
}
