/// One pool as a scheduling pass sees it: flattened out of its data centre, with the figures that
/// depend on `now` (price, clean share, whether its site takes work) computed once per pass.
struct PoolSite: Sendable {
    var ref: PoolRef
    var capacity: Resources
    /// Index into `Topology.acceleratorModels`; -1 for a general CPU pool.
    var modelIndex: Int
    /// The site takes new placements (state `active`).
    var available: Bool
    /// Its data centre's runs are carried out by site agents (`executor = "agents"`).
    var runsAgents: Bool
    /// A site agent of its data centre is live (always true where the model executes).
    var agentLive: Bool
    /// CNY per kWh of IT energy: price at this hour × PUE.
    var costPerITKWh: Double
    /// kg CO₂ per kWh of IT energy: (1 − clean share at this hour) × PUE × grid intensity.
    var carbonPerITKWh: Double
    var pue: Double
    var wattsPerCore: Double
    var wattsPerAccelerator: Double
}

extension Topology {
    /// Every pool, flattened in data-centre then pool order, with `now`-dependent figures.
    func poolSites(now: Instant, states: [DatacenterState], agentsLive: [Bool] = []) -> [PoolSite] {
        let hour = now.hourOfDay(utcOffsetHours: settings.utcOffsetHours)
        var sites: [PoolSite] = []
        for (d, dc) in datacenters.enumerated() {
            let price = dc.priceByHour[hour % dc.priceByHour.count]
            let clean = dc.cleanShareByHour[hour % dc.cleanShareByHour.count]
            for (p, pool) in dc.pools.enumerated() {
                sites.append(PoolSite(
                    ref: PoolRef(datacenter: d, pool: p), capacity: pool.capacity,
                    modelIndex: pool.acceleratorModel.flatMap { acceleratorModels[$0] } ?? -1,
                    available: states[d] == .active,
                    runsAgents: dc.executor == .agents,
                    agentLive: dc.executor == .model || (d < agentsLive.count && agentsLive[d]),
                    costPerITKWh: price * dc.pue,
                    carbonPerITKWh: (1 - clean) * dc.pue * settings.gridIntensityKgPerKWh, pue: dc.pue,
                    wattsPerCore: pool.wattsPerCore, wattsPerAccelerator: pool.wattsPerAccelerator))
            }
        }
        return sites
    }
}
