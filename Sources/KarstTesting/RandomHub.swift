import KarstCore

/// Random topologies and job specs for property tests, from a seed.
///
/// Topologies: 1–6 data centres of 1–3 pools, some with accelerators of two models, RTTs 1–40 ms,
/// random prices and clean shares, two tenants with weights and one with a quota. Specs: any
/// region and class, 0.5–64 cores, sometimes accelerators, residency, latency budgets, durations,
/// retries, windows, deadlines, dependencies; some specs are deliberately impossible (they must be
/// rejected, never crash). Prices and clean shares vary by hour (time-shifting has work to do);
/// settings draw every policy knob (backfill depth, preemption damping, shift threshold).
public enum RandomHub {
    public static let models = ["ascend-910b", "h20"]

    public static func topology(_ rng: inout SeededRandom) -> Topology {
        var b = TopologyBuilder()
        let dcCount = 1 + Int(rng.next() % 6)
        for d in 0..<dcCount {
            var pools: [(String, Double, Double, Int, String?)] = [("cpu", Double(16 + rng.next() % 240), Double(64 + rng.next() % 1024), 0, nil)]
            if rng.next() % 2 == 0 {
                let model = models[Int(rng.next() % 2)]
                pools.append(("acc", Double(32 + rng.next() % 96), Double(256 + rng.next() % 1024),
                              Int(4 + rng.next() % 28), model))
            }
            if rng.next() % 3 == 0 { pools.append(("cpu2", Double(8 + rng.next() % 64), Double(32 + rng.next() % 256), 0, nil)) }
            var rtt: [String: Double] = [:]
            for r in b.regions { rtt[r.id] = Double(1 + rng.next() % 40) }
            let prices = (0..<24).map { _ in 0.2 + rng.unit() * 0.4 }
            let cleans = (0..<24).map { _ in rng.unit() }
            b = b.datacenter("dc\(d)", pue: 1 + rng.unit() * 0.5, prices: prices, cleans: cleans, rtt: rtt, pools: pools)
        }
        let limit = rng.next() % 2 == 0 ? nil : Resources(cpu: 16, memoryGiB: 64, accelerators: 0)
        b = b.tenant("t1", weight: 2).tenant("t2", weight: 1)
            .tenant("t3", quota: Resources(cpu: 64, memoryGiB: 256, accelerators: 8), borrowLimit: limit)
        b.scoring = ScoringWeights(energy: rng.unit(), carbon: rng.unit(), latency: rng.unit(),
                                   packing: rng.unit(), packingMode: rng.next() % 2 == 0 ? .binpack : .spread)
        b.settings.maxConsecutiveMisses = 1 + Int(rng.next() % 50)
        b.settings.maxTenantMissesPerPass = 1 + Int(rng.next() % 8)
        b.settings.backfillReservations = Int(rng.next() % 9)
        b.settings.maxPreemptionsPerJob = 1 + Int(rng.next() % 3)
        b.settings.poolPreemptionsPerMinute = 1 + Int(rng.next() % 20)
        b.settings.timeShiftMinSaving = rng.unit() * 0.3
        b.settings.deadlineSlackSeconds = Double(rng.next() % 1800)
        return b.topology
    }

    /// `lastID` is the newest job id so far (dependencies are drawn from 1…lastID).
    public static func spec(_ rng: inout SeededRandom, _ t: Topology, now: Instant, lastID: UInt64 = 0) -> JobSpec {
        var s = JobSpec(
            name: nil, tenant: ["t1", "t2", "t3", "t4"][Int(rng.next() % 4)],
            origin: t.regions[Int(rng.next() % UInt64(t.regions.count))].id,
            priorityClass: t.classes[Int(rng.next() % UInt64(t.classes.count))].id,
            priority: Int(rng.next() % 10),
            resources: ResourceRequest(cpu: Double(1 + rng.next() % 128) / 2, memoryGiB: Double(1 + rng.next() % 256)))
        if rng.next() % 4 == 0 {
            s.resources.accelerators = Int(1 + rng.next() % 8)
            if rng.next() % 2 == 0 { s.resources.acceleratorModel = models[Int(rng.next() % 2)] }
        }
        if rng.next() % 4 == 0 { s.replicas = Int(1 + rng.next() % 4) }
        if rng.next() % 3 != 0 { s.durationSeconds = Double(10 + rng.next() % 3600) }
        if rng.next() % 4 == 0 { s.maxLatencyMs = Double(1 + rng.next() % 40) }
        if rng.next() % 5 == 0 {
            s.datacenters = t.datacenters.filter { _ in rng.next() % 2 == 0 }.map(\.id)
            if s.datacenters!.isEmpty { s.datacenters = nil }
        }
        if rng.next() % 6 == 0 { s.maxRetries = Int(rng.next() % 3) }
        if rng.next() % 10 == 0 { s.notBefore = now.advanced(bySeconds: Double(rng.next() % 600)) }
        if rng.next() % 8 == 0 { s.notAfter = (s.notBefore ?? now).advanced(bySeconds: Double(rng.next() % 86400)) }
        if rng.next() % 8 == 0 { s.deadline = now.advanced(bySeconds: Double(rng.next() % 7200)) }
        if rng.next() % 6 == 0 { s.preemptible = rng.next() % 2 == 0 }
        if lastID > 0, rng.next() % 8 == 0 {
            let a = 1 + rng.next() % lastID, b = 1 + rng.next() % lastID
            s.dependsOn = a == b ? [JobID(a)] : [JobID(a), JobID(b)]
        }
        return s
    }
}
