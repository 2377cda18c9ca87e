/// Views of the state for operators' gauges (the daemon's `/metrics`): who waits and why, each
/// tenant's jobs, and what each site draws, costs and emits at a given time. Read-only; `now`
/// comes in as a value.
extension SchedulerState {
    /// Pending jobs counted by reason category (`PendingReason.category`; `priority` for a job
    /// no pass has looked at yet), and each tenant's pending and running jobs. One walk over the
    /// job table.
    public var waitingAndRunning: (byReason: [String: Int], pendingByTenant: [String: Int], runningByTenant: [String: Int]) {
        var byReason: [String: Int] = [:]
        var pending: [String: Int] = [:]
        var running: [String: Int] = [:]
        jobs.forEach { _, j in
            switch j.state {
            case .pending:
                byReason[j.pendingReason?.category ?? "priority", default: 0] += 1
                pending[j.tenant, default: 0] += 1
            case .held:
                byReason["held", default: 0] += 1
            case .running:
                running[j.tenant, default: 0] += 1
            default: break
            }
        }
        return (byReason, pending, running)
    }

    /// Each data centre's power, cost and emissions at `now`, from what its running jobs hold:
    /// IT power = busy cores × the pool's watts per core + busy accelerators × watts per
    /// accelerator (as placement and the simulator count it), facility power = IT × PUE, cost and
    /// carbon at the hour's price and clean share.
    public func siteRates(now: Instant) -> [SiteRate] {
        let hour = now.hourOfDay(utcOffsetHours: topology.settings.utcOffsetHours)
        let usage = self.usage
        return topology.datacenters.enumerated().map { d, dc in
            var itWatts = 0.0
            for (p, pool) in dc.pools.enumerated() {
                let a = usage[d].pools[p].allocated
                itWatts += Double(a.milliCPU) / 1000 * pool.wattsPerCore + Double(a.accelerators) * pool.wattsPerAccelerator
            }
            let price = dc.priceByHour[hour % dc.priceByHour.count]
            let clean = dc.cleanShareByHour[hour % dc.cleanShareByHour.count]
            let facilityKW = itWatts / 1000 * dc.pue
            return SiteRate(datacenter: dc.id, itPowerKW: itWatts / 1000, facilityPowerKW: facilityKW,
                            priceCNYPerKWh: price, cleanShare: clean, costCNYPerHour: facilityKW * price,
                            carbonKgPerHour: facilityKW * (1 - clean) * topology.settings.gridIntensityKgPerKWh)
        }
    }
}

/// What a data centre draws, pays and emits per hour at one moment (`siteRates`).
public struct SiteRate: Hashable, Sendable {
    public var datacenter: String
    public var itPowerKW: Double
    /// IT power × PUE.
    public var facilityPowerKW: Double
    /// The hour's electricity price, CNY per kWh.
    public var priceCNYPerKWh: Double
    /// The hour's share of clean electricity (0…1).
    public var cleanShare: Double
    public var costCNYPerHour: Double
    /// kg CO₂ per hour: facility power × (1 − clean share) × the grid's intensity.
    public var carbonKgPerHour: Double
}
