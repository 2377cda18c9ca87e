import KarstCore
import KarstTesting
import Testing

/// Seeded property tests over random topologies and workloads. Each seed is one run; a failure
/// names its seed, and the same seed replays it exactly.
@Suite struct PropertyTests {
    static let seeds: [UInt64] = Array(1...40)

    /// One random operation against the state; returns its events.
    static func step(_ h: inout ScenarioHarness, _ rng: inout SeededRandom) -> [Event] {
        let t = h.state.topology
        switch rng.next() % 20 {
        case 0..<8:
            return (try? [h.state.submit(RandomHub.spec(&rng, t, now: h.now), now: h.now)]) ?? []
        case 8..<12:
            h.clock.advance(bySeconds: Double(rng.next() % 300))
            return h.tick()
        case 12:
            return pick(h, &rng, .pending).flatMap { try? [h.state.hold($0, now: h.now)] } ?? []
        case 13:
            return pick(h, &rng, .held).flatMap { try? [h.state.release($0, now: h.now)] } ?? []
        case 14:
            return pick(h, &rng, nil).flatMap { try? [h.state.cancel($0, now: h.now)] } ?? []
        case 15, 16:
            let ok = rng.next() % 3 != 0
            return pick(h, &rng, .running).flatMap {
                try? [h.state.complete($0, succeeded: ok, message: ok ? nil : "exit 1", now: h.now)]
            } ?? []
        default:
            let dc = t.datacenters[Int(rng.next() % UInt64(t.datacenters.count))].id
            switch rng.next() % 3 {
            case 0: _ = try? h.state.drain(dc); return []
            case 1: _ = try? h.state.resume(dc); return []
            default: return (try? h.state.setOffline(dc, now: h.now).1) ?? []
            }
        }
    }

    static func pick(_ h: ScenarioHarness, _ rng: inout SeededRandom, _ state: JobState?) -> JobID? {
        let candidates = h.state.jobs(state: state)
        return candidates.isEmpty ? nil : candidates[Int(rng.next() % UInt64(candidates.count))].id
    }

    @Test("allocated never exceeds capacity in any pool after any event sequence", arguments: seeds)
    func neverOverCommits(seed: UInt64) {
        var rng = SeededRandom(seed: seed)
        var h = ScenarioHarness(RandomHub.topology(&rng))
        for i in 0..<400 {
            // Every plan, before it is applied, fits in what is free.
            if i % 7 == 0 {
                let plan = h.state.plan(now: h.now)
                var load = h.state.allocated
                for p in plan.placements {
                    let g = h.state.poolRefs.firstIndex(of: p.pool)!
                    load[g] += h.state.job(p.job)!.totalResources
                }
                for (g, ref) in h.state.poolRefs.enumerated() {
                    let cap = h.state.topology.datacenters[ref.datacenter].pools[ref.pool].capacity
                    #expect(load[g].fits(in: cap), "seed \(seed): plan over-commits \(h.state.names(of: ref))")
                }
            }
            _ = Self.step(&h, &rng)
            if let violation = h.capacityViolation() {
                Issue.record("seed \(seed), step \(i): \(violation)")
                return
            }
        }
    }

    @Test("the head of the queue is placed whenever some pool can hold it", arguments: seeds)
    func headIsPlacedWhenItFits(seed: UInt64) {
        var rng = SeededRandom(seed: seed)
        var h = ScenarioHarness(RandomHub.topology(&rng))
        var checked = 0
        for _ in 0..<300 {
            _ = Self.step(&h, &rng)
            guard let head = h.state.queueHead(), let job = h.state.job(head) else { continue }
            let fits = Self.someFreePoolHolds(job, h.state, now: h.now)
            let plan = h.state.plan(now: h.now)
            let placed = plan.placements.first?.job == head
            if fits { checked += 1 }
            #expect(fits == placed, "seed \(seed): head \(head) fits=\(fits) placed=\(placed)")
        }
        #expect(checked > 0, "seed \(seed): no head ever fitted; the test checked nothing")
    }

    /// Brute force, independent of the placement stack: is there a pool this job may use now?
    static func someFreePoolHolds(_ job: Job, _ s: SchedulerState, now: Instant) -> Bool {
        let t = s.topology
        if let nb = job.spec.notBefore, now < nb { return false }
        if let quota = t.tenantPolicy(for: job.tenant).quota {
            let used = s.tenantShares.first { $0.tenant == job.tenant }?.usage ?? .zero
            if !(used + job.totalResources).fits(in: quota) { return false }
        }
        let region = t.regions.firstIndex { $0.id == job.spec.origin }!
        let budget = job.spec.maxLatencyMs ?? t.classes.first { $0.id == job.spec.priorityClass }!.defaultLatencyMs
        for (d, dc) in t.datacenters.enumerated() where s.datacenterStates[d] == .active {
            if let allowed = job.spec.datacenters, !allowed.contains(dc.id) { continue }
            if dc.rttMs[region] > budget { continue }
            for (p, pool) in dc.pools.enumerated() {
                let r = job.spec.resources
                if r.accelerators > 0 {
                    guard let m = pool.acceleratorModel, r.acceleratorModel == nil || r.acceleratorModel == m else { continue }
                } else if pool.acceleratorModel != nil { continue }
                let g = s.poolRefs.firstIndex(of: PoolRef(datacenter: d, pool: p))!
                if (s.allocated[g] + job.totalResources).fits(in: pool.capacity) { return true }
            }
        }
        return false
    }

    @Test("the same inputs give the same plans and events", arguments: [3, 17, 29] as [UInt64])
    func deterministic(seed: UInt64) {
        func run() -> [String] {
            var rng = SeededRandom(seed: seed)
            var h = ScenarioHarness(RandomHub.topology(&rng))
            var log: [String] = []
            for _ in 0..<500 {
                for e in Self.step(&h, &rng) {
                    log.append("\(e.kind) \(e.job.id) \(e.at) \(e.job.placement.map { "\($0)" } ?? "-") \(e.job.pendingReason.map { "\($0)" } ?? "-")")
                }
            }
            return log
        }
        let a = run(), b = run()
        #expect(a.count > 100)
        #expect(a == b)
    }
}
