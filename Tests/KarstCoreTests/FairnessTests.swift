import KarstCore
import KarstTesting
import Testing

/// Starvation freedom (aging) and weighted fair share (DRF) on saturated hubs.
@Suite struct FairnessTests {
    /// One pool of 10 cores; every job takes 1 core for 60 s, so the hub serves 10 jobs a minute.
    static func tenSlots(agingPerHour: Double) -> Topology {
        TopologyBuilder().datacenter("a", pools: [("cpu", 10, 100, 0, nil)])
            .aging("best-effort", perHour: agingPerHour).topology
    }

    /// Submits one priority-`p` best-effort job every 6 s (exactly the service rate) after a
    /// backlog of 20, puts one priority-0 job in at t0, and returns when it started (seconds after
    /// t0), or nil if it had not started after `horizon` seconds.
    static func lowJobStart(agingPerHour: Double, p: Int, horizon: Double) throws -> Double? {
        var h = ScenarioHarness(tenSlots(agingPerHour: agingPerHour))
        let stream = JobBuilder.job().class("best-effort").priority(p).lasting(60)
        for _ in 0..<30 { try h.submit(stream) }  // 10 start, 20 wait
        h.tick()
        let t0 = h.now
        let low = try h.submit(JobBuilder.job().class("best-effort").priority(0).lasting(60))
        var elapsed = 0.0
        while elapsed < horizon {
            try h.submit(stream)
            h.run(seconds: 6)
            elapsed += 6
            if let started = h.job(low)?.startedAt { return t0.seconds(to: started) }
        }
        return nil
    }

    @Test("with aging, a low-priority job under a constant stream of higher-priority work starts within the bound")
    func agingBoundsTheWait() throws {
        // 60 points per hour = 1 point per minute; the stream's priority is 30, so after
        // p / w = 1800 s the low job outranks every newcomer. Ahead of it then: the backlog of 20
        // plus the 300 arrivals of those 1800 s, served at 10 a minute: 32 min. Bound: that
        // plus one run (60 s) of slack.
        let bound = 1800.0 + 20 * 6 + 60
        let start = try #require(try Self.lowJobStart(agingPerHour: 60, p: 30, horizon: 3 * bound))
        print("aging: low-priority job started \(start) s after submission (bound \(bound) s)")
        #expect(start <= bound, "started after \(start) s, bound \(bound) s")
        #expect(start >= 1800 - 60, "started after \(start) s: aging should not act before p/w")
    }

    @Test("without aging the same job starves (the bound above is aging's doing)")
    func withoutAgingItStarves() throws {
        #expect(try Self.lowJobStart(agingPerHour: 0, p: 30, horizon: 3 * 1980) == nil)
    }

    @Test("two saturated tenants with weights 2:1 converge to dominant shares within 5% of 2:1")
    func weightedFairShare() throws {
        let topo = TopologyBuilder().datacenter("a", pools: [("cpu", 100, 400, 0, nil)])
            .tenant("heavy", weight: 2).tenant("light", weight: 1).topology
        var h = ScenarioHarness(topo)
        var rng = SeededRandom(seed: 42)
        // Different shapes per tenant, so the dominant resource differs (cpu vs memory).
        let heavy = JobBuilder.job().tenant("heavy").cpu(1).memory(2)
        let light = JobBuilder.job().tenant("light").cpu(0.5).memory(4)
        var ratios: [Double] = []
        for step in 0..<360 {
            // Keep both backlogs deep: each tenant always has more work than fits.
            for _ in h.state.jobs(state: .pending, tenant: "heavy").count..<200 {
                try h.submit(heavy.lasting(30 + rng.unit() * 60))
            }
            for _ in h.state.jobs(state: .pending, tenant: "light").count..<200 {
                try h.submit(light.lasting(30 + rng.unit() * 60))
            }
            h.run(seconds: 10)
            if step >= 180 {
                let shares = Dictionary(uniqueKeysWithValues: h.state.tenantShares.map { ($0.tenant, $0.dominantShare) })
                ratios.append(shares["heavy"]! / shares["light"]!)
            }
        }
        let mean = ratios.reduce(0, +) / Double(ratios.count)
        print("weighted fair share: mean dominant-share ratio heavy/light = \(mean)")
        #expect(abs(mean - 2) / 2 <= 0.05, "mean dominant-share ratio \(mean)")
        #expect(h.capacityViolation() == nil)
    }
}
