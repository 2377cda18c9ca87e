import KarstCore
import KarstTesting
import Testing

@Suite struct PlacementTests {
    /// Two general sites (one cheap, one clean) and one NPU site far from BTH.
    let hub = TopologyBuilder()
        .datacenter("cheap", price: 0.20, clean: 0.3, pools: [("cpu", 100, 400, 0, nil)])
        .datacenter("clean", price: 0.50, clean: 1.0, pools: [("cpu", 100, 400, 0, nil)])
        .datacenter("npu", rtt: ["bth": 30], pools: [("cpu", 10, 40, 0, nil), ("npu", 64, 512, 16, "ascend-910b")])

    func placement(of id: JobID, in h: ScenarioHarness) -> String? {
        guard let ref = h.job(id)?.placement else { return nil }
        let n = h.state.names(of: ref)
        return "\(n.datacenter)/\(n.pool)"
    }

    @Test func energyWeightPrefersTheCheapSiteCarbonWeightTheCleanOne() throws {
        var cheap = ScenarioHarness(hub.with { $0.scoring = ScoringWeights(energy: 1, carbon: 0, latency: 0, packing: 0) }.topology)
        let a = try cheap.submit(.job().cpu(4))
        cheap.tick()
        #expect(placement(of: a, in: cheap) == "cheap/cpu")

        var green = ScenarioHarness(hub.with { $0.scoring = ScoringWeights(energy: 0, carbon: 1, latency: 0, packing: 0) }.topology)
        let b = try green.submit(.job().cpu(4))
        green.tick()
        #expect(placement(of: b, in: green) == "clean/cpu")
    }

    @Test func binpackFillsOnePoolSpreadAlternates() throws {
        let flat = TopologyBuilder()
            .datacenter("a", pools: [("cpu", 100, 400, 0, nil)])
            .datacenter("b", pools: [("cpu", 100, 400, 0, nil)])
        var pack = ScenarioHarness(flat.with { $0.scoring = ScoringWeights(energy: 0, carbon: 0, latency: 0, packing: 1, packingMode: .binpack) }.topology)
        var spread = ScenarioHarness(flat.with { $0.scoring = ScoringWeights(energy: 0, carbon: 0, latency: 0, packing: 1, packingMode: .spread) }.topology)
        var packed: [String] = [], spreaded: [String] = []
        for _ in 0..<4 {
            let p = try pack.submit(.job().cpu(10)); pack.tick()
            let s = try spread.submit(.job().cpu(10)); spread.tick()
            packed.append(placement(of: p, in: pack)!)
            spreaded.append(placement(of: s, in: spread)!)
        }
        #expect(packed == ["a/cpu", "a/cpu", "a/cpu", "a/cpu"])
        #expect(spreaded == ["a/cpu", "b/cpu", "a/cpu", "b/cpu"])
    }

    @Test func acceleratorJobsGoToTheirModelAndCPUJobsToGeneralPools() throws {
        var h = ScenarioHarness(hub.topology)
        let npu = try h.submit(.job().cpu(8).memory(64).accelerators(8, model: "ascend-910b"))
        let any = try h.submit(.job().cpu(8).memory(64).accelerators(8))
        let cpu = try h.submit(.job().cpu(64))
        h.tick()
        #expect(placement(of: npu, in: h) == "npu/npu")
        #expect(placement(of: any, in: h) == "npu/npu")
        #expect(placement(of: cpu, in: h)?.hasSuffix("/cpu") == true)
    }

    @Test func latencyBudgetExcludesFarSites() throws {
        var h = ScenarioHarness(hub.topology)
        // Only "npu" has accelerators, and it is 30 ms from BTH: a 20 ms budget can never run.
        #expect(throws: SchedulerError.self) {
            try h.submit(.job().from("bth").class("online").accelerators(1))
        }
        let relaxed = try h.submit(.job().from("bth").accelerators(1).latency(40))
        h.tick()
        #expect(placement(of: relaxed, in: h) == "npu/npu")
    }

    @Test func residencyIsHonoured() throws {
        var h = ScenarioHarness(hub.topology)
        let id = try h.submit(.job().cpu(4).only("clean"))
        h.tick()
        #expect(placement(of: id, in: h) == "clean/cpu")
    }

    @Test func neverRunnableJobsAreRejectedWithTheReason() {
        var h = ScenarioHarness(hub.topology)
        #expect(throws: SchedulerError.unschedulable(reason: "asks for cpu=200.0 mem=1.0GiB, more than any pool that meets its other constraints holds, or its data centre over all its pools of that kind (the largest such pool: cpu=100.0 mem=400.0GiB)")) {
            try h.submit(.job().cpu(200))
        }
        #expect(throws: SchedulerError.self) { try h.submit(.job().accelerators(1, model: "h100")) }
        #expect(throws: SchedulerError.invalidJob(field: "datacenters[0]", reason: "unknown data centre 'mars'")) {
            try h.submit(.job().only("mars"))
        }
        #expect(throws: SchedulerError.self) { try h.submit(.job().from("moon")) }
        #expect(throws: SchedulerError.self) { try h.submit(.job().cpu(-1)) }
        #expect(h.state.jobCount == 0)
    }

    @Test func waitingJobsCarryTheirReason() throws {
        var h = ScenarioHarness(hub.topology)
        let big = try h.submit(.job().cpu(90))
        let big2 = try h.submit(.job().cpu(90))
        let third = try h.submit(.job().cpu(90))
        h.tick()
        #expect(h.job(big)?.state == .running)
        #expect(h.job(big2)?.state == .running)
        #expect(h.job(third)?.pendingReason?.description.hasPrefix("no-capacity:") == true)
        _ = try h.state.drain("cheap")
        _ = try h.state.drain("clean")
        let fourth = try h.submit(.job().cpu(1))
        h.tick()
        #expect(placement(of: fourth, in: h) == "npu/cpu")
        let fifth = try h.submit(.job().cpu(20))
        h.tick()
        #expect(h.job(fifth)?.pendingReason == .datacenterUnavailable)
    }

    @Test func aStalePlanNeverOverCommits() throws {
        var h = ScenarioHarness(hub.topology)
        _ = try h.submit(.job().cpu(60).only("cheap"))
        _ = try h.submit(.job().cpu(60).only("cheap"))
        let plan = h.state.plan(now: h.now)
        // Apply twice: the second application must place nothing.
        let first = h.state.apply(plan)
        let second = h.state.apply(plan)
        #expect(first.count == 1)
        #expect(second.isEmpty)
        #expect(h.capacityViolation() == nil)
    }

    @Test func tiesGoToConfigurationOrder() throws {
        let twins = TopologyBuilder()
            .datacenter("first", pools: [("cpu", 100, 400, 0, nil)])
            .datacenter("second", pools: [("cpu", 100, 400, 0, nil)])
            .with { $0.scoring = ScoringWeights(energy: 1, carbon: 1, latency: 1, packing: 0) }
        var h = ScenarioHarness(twins.topology)
        let id = try h.submit(.job().cpu(1))
        h.tick()
        #expect(placement(of: id, in: h) == "first/cpu")
    }
}
