import KarstCore

/// One data centre's use, energy, cost and carbon over a replay, in total and per hour.
public struct SiteStats: Sendable {
    public var id: String
    public var energyKWh: Double
    public var costCNY: Double
    public var carbonKg: Double
    /// Jobs whose first run started here.
    public var jobsStarted: Int
    public var pools: [PoolStats]
    /// Per hour: facility energy (IT energy × PUE), its cost at that hour's price, its emissions at
    /// that hour's clean share, and the price (CNY/kWh).
    public var hourlyEnergyKWh: [Double]
    public var hourlyCostCNY: [Double]
    public var hourlyCarbonKg: [Double]
    public var hourlyPrice: [Double]

    static func all(_ r: ReplayResult) -> [SiteStats] {
        let t = r.topology
        let hours = r.pools.buckets
        var started = Array(repeating: 0, count: t.datacenters.count)
        for j in r.jobs where j.firstDatacenter >= 0 { started[Int(j.firstDatacenter)] += 1 }
        return t.datacenters.enumerated().map { d, dc in
            var s = SiteStats(id: dc.id, energyKWh: 0, costCNY: 0, carbonKg: 0, jobsStarted: started[d], pools: [],
                              hourlyEnergyKWh: Array(repeating: 0, count: hours),
                              hourlyCostCNY: Array(repeating: 0, count: hours),
                              hourlyCarbonKg: Array(repeating: 0, count: hours), hourlyPrice: [])
            s.hourlyPrice = (0..<hours).map { b in
                dc.priceByHour[r.pools.start(of: b).hourOfDay(utcOffsetHours: t.settings.utcOffsetHours) % dc.priceByHour.count]
            }
            for (g, ref) in r.poolRefs.enumerated() where ref.datacenter == d {
                let utilisation = r.pools.means(2 * g)
                let watts = r.pools.means(2 * g + 1)
                for b in 0..<hours {
                    let hour = r.pools.start(of: b).hourOfDay(utcOffsetHours: t.settings.utcOffsetHours)
                    let kWh = watts[b] / 1000 * dc.pue  // mean W over one hour = Wh
                    s.hourlyEnergyKWh[b] += kWh
                    s.hourlyCostCNY[b] += kWh * dc.priceByHour[hour % dc.priceByHour.count]
                    s.hourlyCarbonKg[b] += kWh * (1 - dc.cleanShareByHour[hour % dc.cleanShareByHour.count])
                        * t.settings.gridIntensityKgPerKWh
                }
                let mean = utilisation.isEmpty ? 0 : utilisation.reduce(0, +) / Double(utilisation.count)
                s.pools.append(PoolStats(id: dc.pools[ref.pool].id, meanUtilisation: mean,
                                         peakUtilisation: utilisation.max() ?? 0, hourlyUtilisation: utilisation))
            }
            s.energyKWh = s.hourlyEnergyKWh.reduce(0, +)
            s.costCNY = s.hourlyCostCNY.reduce(0, +)
            s.carbonKg = s.hourlyCarbonKg.reduce(0, +)
            return s
        }
    }
}

/// One pool's utilisation (the dominant share of its capacity that running jobs hold).
public struct PoolStats: Sendable {
    public var id: String
    /// Mean over the replay's hours.
    public var meanUtilisation: Double
    /// The busiest hour's mean.
    public var peakUtilisation: Double
    public var hourlyUtilisation: [Double]
}
