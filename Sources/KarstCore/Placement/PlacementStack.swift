/// Chooses a pool for one job: every feasibility check over every pool, then the weighted,
/// normalised scorers over the pools that passed. The highest total wins; ties go to the pool that
/// comes first in configuration order, so the same inputs always give the same choice.
struct PlacementStack: Sendable {
    /// What the stack decided for one job.
    enum Choice {
        /// Place in `sites[site]`.
        case placed(site: Int, estimate: PlacementEstimate)
        /// No pool passed `stage`, the furthest stage any pool reached; `nearest` is the site that
        /// came closest to fitting when the furthest failure was `fits`.
        case blocked(stage: FeasibilityCheck, nearest: Int?)
    }

    private struct Candidate {
        var site: Int
        var raw: (Double, Double, Double, Double)
        var estimate: PlacementEstimate
    }

    let weights: ScoringWeights
    private var candidates: [Candidate] = []

    /// A stack with no scratch buffer yet (it grows on first use and is kept).
    init(weights: ScoringWeights) {
        self.weights = weights
    }

    /// The best pool for `d` now. A pool whose backfill reservations in `book` `d` would break
    /// (running until `end`) fails the `fits` stage.
    ///
    /// `book` is borrowed, never stored: a copy kept alive while the pass goes on to change its
    /// book would make that change copy every profile.
    mutating func choose(_ d: Demand, sites: [PoolSite], free: [Resources], rtt: [[Double]],
                         book: borrowing ReservationBook = ReservationBook(),
                         until end: Instant = Instant(microseconds: 0)) -> Choice {
        let booked = !book.isEmpty
        candidates.removeAll(keepingCapacity: true)
        var furthest = FeasibilityCheck.residency
        var nearest: Int? = nil
        var nearestFraction = -1.0
        for (g, site) in sites.enumerated() {
            let r = rtt[site.ref.datacenter][d.originIndex]
            var failed: FeasibilityCheck? = nil
            for check in FeasibilityCheck.stages where !check.passes(d, site, rtt: r, free: free[g]) {
                failed = check
                break
            }
            if failed == nil, booked, !book.admits(g, d.total, until: end) { failed = .fits }
            if let failed {
                if failed > furthest { furthest = failed; nearest = nil; nearestFraction = -1 }
                if failed == .fits, failed == furthest {
                    let f = fraction(of: d.total, fittingIn: free[g])
                    if f > nearestFraction { nearestFraction = f; nearest = g }
                }
                continue
            }
            candidates.append(candidate(d, site: g, sites[g], rtt: r, free: free[g]))
        }
        guard !candidates.isEmpty else { return .blocked(stage: furthest, nearest: nearest) }
        return pickBest()
    }

    /// Whether some pool could hold `d` if the hub were empty (static checks and total capacity).
    func couldEverPlace(_ d: Demand, sites: [PoolSite], rtt: [[Double]]) -> Choice? {
        var furthest = FeasibilityCheck.residency
        for site in sites {
            let r = rtt[site.ref.datacenter][d.originIndex]
            var failed: FeasibilityCheck? = nil
            for check in FeasibilityCheck.staticStages where !check.passes(d, site, rtt: r, free: site.capacity) {
                failed = check
                break
            }
            guard let failed else { return nil }
            furthest = max(furthest, failed)
        }
        return .blocked(stage: furthest, nearest: nil)
    }

    private func candidate(_ d: Demand, site g: Int, _ site: PoolSite, rtt: Double, free: Resources) -> Candidate {
        let hours = d.estimatedSeconds / 3600
        let itKWh = (Double(d.total.milliCPU) / 1000 * site.wattsPerCore
            + Double(d.total.accelerators) * site.wattsPerAccelerator) / 1000 * hours
        let cost = itKWh * site.costPerITKWh
        let carbon = itKWh * site.carbonPerITKWh
        let used = site.capacity - free + d.total
        let utilisation = used.dominantShare(of: site.capacity)
        return Candidate(
            site: g, raw: (cost, carbon, rtt, utilisation),
            estimate: PlacementEstimate(energyKWh: itKWh * site.pue, costCNY: cost, carbonKg: carbon,
                                        rttMs: rtt, utilisation: utilisation))
    }

    /// Normalises each scorer over the candidates and returns the best total.
    private func pickBest() -> Choice {
        var lo = (Double.infinity, Double.infinity, Double.infinity, Double.infinity)
        var hi = (-Double.infinity, -Double.infinity, -Double.infinity, -Double.infinity)
        for c in candidates {
            lo = (min(lo.0, c.raw.0), min(lo.1, c.raw.1), min(lo.2, c.raw.2), min(lo.3, c.raw.3))
            hi = (max(hi.0, c.raw.0), max(hi.1, c.raw.1), max(hi.2, c.raw.2), max(hi.3, c.raw.3))
        }
        let w = weights
        let packHigh = Scorer.packing.higherIsBetter(w)
        var best = 0
        var bestScore = -Double.infinity
        for (i, c) in candidates.enumerated() {
            var s = w.energy * lowerBetter(c.raw.0, lo.0, hi.0)
            s += w.carbon * lowerBetter(c.raw.1, lo.1, hi.1)
            s += w.latency * lowerBetter(c.raw.2, lo.2, hi.2)
            let pack = lowerBetter(c.raw.3, lo.3, hi.3)
            s += w.packing * (packHigh ? 1 - pack : pack)
            if s > bestScore + 1e-12 { best = i; bestScore = s }
        }
        var estimate = candidates[best].estimate
        estimate.score = bestScore
        return .placed(site: candidates[best].site, estimate: estimate)
    }
}

/// 1 for the lowest figure among candidates, 0 for the highest; 1 when all are equal.
@inline(__always)
private func lowerBetter(_ x: Double, _ lo: Double, _ hi: Double) -> Double {
    hi > lo ? (hi - x) / (hi - lo) : 1
}

/// The smallest fraction, over the dimensions the demand uses, of the demand that `free` covers.
private func fraction(of demand: Resources, fittingIn free: Resources) -> Double {
    var f = Double.infinity
    if demand.milliCPU > 0 { f = min(f, Double(free.milliCPU) / Double(demand.milliCPU)) }
    if demand.memoryMiB > 0 { f = min(f, Double(free.memoryMiB) / Double(demand.memoryMiB)) }
    if demand.accelerators > 0 { f = min(f, Double(free.accelerators) / Double(demand.accelerators)) }
    return f
}
