/// Gang placement across pools: a gang (`replicas: N`) that no single pool can take may be split
/// over pools of the same kind (same accelerator model, or general CPU) inside one data centre —
/// all N replicas at once, or none. Partial gangs never exist: the split is decided whole here
/// and applied whole (`SchedulerState.apply` re-checks every shard before placing any).
extension SchedulerState {
    /// Shards for `d` over the pools of one data centre, taking free capacity as given and
    /// leaving backfill reservations intact; nil when no data centre can hold the whole gang.
    /// Among data centres that can, the one with the cheapest power (per IT kWh) now wins, then
    /// the lower round-trip time, then configuration order.
    func splitGang(_ d: Demand, sites: [PoolSite], free: [Resources], book: ReservationBook,
                   until end: Instant) -> [PoolShard]? {
        guard d.replicas > 1 else { return nil }
        let one = d.oneReplica
        var best: (shards: [PoolShard], cost: Double, rtt: Double)? = nil
        for (dcIndex, _) in topology.datacenters.enumerated() {
            let r = rtt[dcIndex][d.originIndex]  // the tie-break below
            var byKind: [Int: [(site: Int, fit: Int)]] = [:]
            for g in poolOffsets[dcIndex]..<(poolOffsets[dcIndex] + topology.datacenters[dcIndex].pools.count) {
                let site = sites[g]
                guard FeasibilityCheck.allowsApartFromLoad(one, site, rtt: rtt) else { continue }
                var fit = replicasFitting(d.perReplica, in: free[g], cap: d.replicas)
                while fit > 0, !book.admits(g, d.perReplica.scaled(by: fit), until: end) { fit -= 1 }
                if fit > 0 { byKind[site.modelIndex, default: []].append((g, fit)) }
            }
            for kind in byKind.keys.sorted() {
                let pools = byKind[kind]!.sorted { $0.fit != $1.fit ? $0.fit > $1.fit : $0.site < $1.site }
                guard pools.reduce(0, { $0 + $1.fit }) >= d.replicas else { continue }
                var left = d.replicas
                var shards: [PoolShard] = []
                for p in pools where left > 0 {
                    let n = min(left, p.fit)
                    shards.append(PoolShard(pool: sites[p.site].ref, replicas: n))
                    left -= n
                }
                let cost = sites[pools[0].site].costPerITKWh
                if best == nil || cost < best!.cost - 1e-12 || (abs(cost - best!.cost) <= 1e-12 && r < best!.rtt) {
                    best = (shards, cost, r)
                }
            }
        }
        return best?.shards
    }

    /// The first pool one replica of `d` could ever use (named when a gang waits for a split).
    func firstGangPool(_ d: Demand, _ sites: [PoolSite]) -> Int? {
        let one = d.oneReplica
        return sites.indices.first { FeasibilityCheck.couldEverHold(one, sites[$0], rtt: rtt) }
    }

    /// Whether some data centre could hold the whole gang split over its pools of one kind when
    /// empty (the admission check for gangs larger than any one pool).
    static func couldEverSplit(_ d: Demand, sites: [PoolSite], rtt: [[Double]]) -> Bool {
        guard d.replicas > 1 else { return false }
        let one = d.oneReplica
        var replicas: [PoolKey: Int] = [:]
        for site in sites where FeasibilityCheck.couldEverHold(one, site, rtt: rtt) {
            replicas[PoolKey(datacenter: site.ref.datacenter, model: site.modelIndex), default: 0]
                += replicasFitting(d.perReplica, in: site.capacity, cap: d.replicas)
        }
        return replicas.values.contains { $0 >= d.replicas }
    }
}

/// Pools of one kind in one data centre: what a gang may be split over.
private struct PoolKey: Hashable {
    var datacenter: Int
    var model: Int
}

/// How many copies of `unit` fit in `free`, at most `cap`.
func replicasFitting(_ unit: Resources, in free: Resources, cap: Int) -> Int {
    var n = cap
    if unit.milliCPU > 0 { n = min(n, Int(max(0, free.milliCPU) / unit.milliCPU)) }
    if unit.memoryMiB > 0 { n = min(n, Int(max(0, free.memoryMiB) / unit.memoryMiB)) }
    if unit.accelerators > 0 { n = min(n, Int(max(0, free.accelerators) / unit.accelerators)) }
    return n
}
