/// One filter of placement: can this job go to this pool at all? Each check either passes or names
/// itself as the reason. The stages run in `FeasibilityCheck.stages` order, static ones (that no
/// change of load can fix) first, so the furthest stage any pool reached explains a pending job.
enum FeasibilityCheck: Int, Comparable, Sendable {
    /// The job's residency list allows this data centre.
    case residency
    /// Accelerator jobs need an accelerator pool of the right model; CPU jobs a general pool.
    case accelerator
    /// A job with a command runs where site agents execute; one without, where the model does.
    case executor
    /// RTT from the job's origin to this data centre is within its latency budget.
    case latency
    /// The pool is big enough for the job when empty.
    case size
    /// The data centre takes new work (`active`).
    case datacenterState
    /// Where site agents execute, one of them is live.
    case agent
    /// The job's whole demand fits in the pool's free capacity.
    case fits

    /// The pipeline, in order. Static checks first; the last two depend on the moment.
    static let stages: [FeasibilityCheck] = [.residency, .accelerator, .executor, .latency, .size, .datacenterState,
                                             .agent, .fits]

    /// The static stages: what decides whether a job could *ever* run somewhere.
    static let staticStages: [FeasibilityCheck] = [.residency, .accelerator, .executor, .latency, .size]

    @inline(__always)
    func passes(_ d: Demand, _ site: PoolSite, rtt: Double, free: Resources) -> Bool {
        switch self {
        case .residency:
            return d.residencyMask & (1 << UInt64(site.ref.datacenter)) != 0
        case .accelerator:
            if !d.wantsAccelerators { return site.modelIndex < 0 }
            return site.modelIndex >= 0 && (d.modelIndex < 0 || d.modelIndex == site.modelIndex)
        case .executor:
            return site.runsAgents == d.needsAgents
        case .latency:
            return rtt <= d.latencyBudgetMs
        case .size:
            return d.total.fits(in: site.capacity)
        case .datacenterState:
            return site.available
        case .agent:
            return site.agentLive
        case .fits:
            return d.total.fits(in: free)
        }
    }

    static func < (a: FeasibilityCheck, b: FeasibilityCheck) -> Bool { a.rawValue < b.rawValue }
}

extension FeasibilityCheck {
    /// Whether `site` passes every stage for `d` but free capacity: it could take `d` once room
    /// is freed or made (reservations, preemption, gang splits).
    static func allowsApartFromLoad(_ d: Demand, _ site: PoolSite, rtt: [[Double]]) -> Bool {
        let r = rtt[site.ref.datacenter][d.originIndex]
        return stages.allSatisfy { $0 == .fits || $0.passes(d, site, rtt: r, free: site.capacity) }
    }

    /// Whether `site` passes the static stages for `d`: it could ever hold it, empty.
    static func couldEverHold(_ d: Demand, _ site: PoolSite, rtt: [[Double]]) -> Bool {
        let r = rtt[site.ref.datacenter][d.originIndex]
        return staticStages.allSatisfy { $0.passes(d, site, rtt: r, free: site.capacity) }
    }
}
