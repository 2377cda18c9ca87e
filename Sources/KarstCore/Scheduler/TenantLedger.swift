/// Tenants known to the scheduler: their interned index, fair-share weight, quota and current
/// allocation. Tenants appear on first submission and are never forgotten (indices stay valid).
struct TenantLedger: Sendable {
    private(set) var names: [String] = []
    private var index: [String: Int] = [:]
    private(set) var weights: [Double] = []
    private(set) var quotas: [Resources?] = []
    /// Quota + borrow limit per tenant: the hard cap; nil for none.
    private(set) var ceilings: [Resources?] = []
    /// Resources allocated to each tenant's running jobs.
    var usage: [Resources] = []

    /// The index of `name`, registering it with `topology`'s policy on first sight.
    mutating func intern(_ name: String, topology: Topology) -> Int {
        if let i = index[name] { return i }
        let policy = topology.tenantPolicy(for: name)
        index[name] = names.count
        names.append(name)
        weights.append(policy.weight)
        quotas.append(policy.quota)
        ceilings.append(policy.ceiling)
        usage.append(.zero)
        return names.count - 1
    }

    func lookup(_ name: String) -> Int? { index[name] }

    /// Re-reads weights and quotas after a configuration change.
    mutating func refresh(topology: Topology) {
        for (i, name) in names.enumerated() {
            let policy = topology.tenantPolicy(for: name)
            weights[i] = policy.weight
            quotas[i] = policy.quota
            ceilings[i] = policy.ceiling
        }
    }

    /// Whether a job of `demand` placed now for tenant `i` would run on borrowed capacity (the
    /// tenant has no quota, or the job takes it above its quota).
    func borrows(_ i: Int, _ demand: Resources, usage: [Resources]) -> Bool {
        guard let quota = quotas[i] else { return true }
        return !(usage[i] + demand).fits(in: quota)
    }

    /// Weighted dominant share of tenant `i` given `usage` and the hub's total capacity.
    func share(_ i: Int, usage: [Resources], total: Resources) -> Double {
        usage[i].dominantShare(of: total) / weights[i]
    }
}
