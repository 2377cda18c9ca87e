import KarstCore
import KarstTesting
import Testing

/// Gang placement: all replicas at once in one data centre, in one pool or across its pools of
/// the same kind; never partial.
@Suite struct GangTests {
    /// Data centre `a` has two NPU pools of 16 and a CPU pool; `b` has one NPU pool of 16.
    static let hub = TopologyBuilder()
        .datacenter("a", pools: [("npu1", 128, 1024, 16, "ascend-910b"), ("npu2", 128, 1024, 16, "ascend-910b"),
                                 ("cpu", 64, 256, 0, nil)])
        .datacenter("b", price: 0.1, pools: [("npu", 128, 1024, 16, "ascend-910b")])

    @Test("a gang too big for any pool is split over pools of one kind in one data centre")
    func splitsAcrossPools() throws {
        var h = ScenarioHarness(Self.hub.topology)
        let gang = try h.submit(.job().class("batch").accelerators(8, model: "ascend-910b").cpu(8).replicas(3).lasting(60))
        h.tick()
        let job = try #require(h.job(gang))
        #expect(job.state == .running)
        #expect(job.shards.map(\.replicas).reduce(0, +) == 3)
        #expect(Set(job.shards.map(\.pool.datacenter)) == [0], "one data centre only")
        #expect(h.capacityViolation() == nil)
        h.run(seconds: 61)
        #expect(h.state.allocated.allSatisfy { $0 == .zero }, "every shard released")
    }

    @Test("a gang that fits in one pool stays in one pool")
    func onePoolWhenItFits() throws {
        var h = ScenarioHarness(Self.hub.topology)
        let gang = try h.submit(.job().class("batch").accelerators(4).cpu(4).replicas(4).lasting(60))
        h.tick()
        #expect(h.job(gang)?.shards == [])
        #expect(h.job(gang)?.placement != nil)
    }

    @Test("all or nothing: when only part of the gang fits, no replica starts")
    func allOrNothing() throws {
        var h = ScenarioHarness(Self.hub.topology)
        try h.submit(.job().class("batch").accelerators(12).cpu(12).only("a").lasting(1000))
        try h.submit(.job().class("batch").accelerators(12).cpu(12).only("a").lasting(1000))
        h.tick()
        // 8 accelerators left in a (4 + 4), 16 in b: a 3 × 8 gang fits nowhere whole.
        let gang = try h.submit(.job().class("batch").accelerators(8).cpu(8).replicas(3).lasting(60))
        h.tick()
        #expect(h.job(gang)?.state == .pending)
        #expect(h.job(gang)?.shards == [])
        #expect(h.capacityViolation() == nil)
    }

    @Test("a gang larger than the whole of any data centre is rejected at submission")
    func impossibleGang() {
        var h = ScenarioHarness(Self.hub.topology)
        #expect(throws: SchedulerError.self) {
            try h.submit(.job().class("batch").accelerators(8).cpu(8).replicas(5))
        }
    }
}
