import KarstCore
import KarstTesting
import Testing

/// Explain: reasons, queue positions, estimated starts, and dry runs that say where and when.
@Suite struct ExplainTests {
    static let hub = TopologyBuilder().datacenter("a", pools: [("cpu", 8, 64, 0, nil)]).topology

    @Test("pending jobs carry a reason, a position and (with a reservation) an estimated start")
    func reasonsPositionsEstimates() throws {
        var h = ScenarioHarness(Self.hub)
        try h.submit(.job().cpu(8).lasting(600))
        let first = try h.submit(.job().cpu(4).lasting(60))
        let second = try h.submit(.job().cpu(4).lasting(60))
        let held = try h.submit(.job().cpu(1))
        h.record([try h.state.hold(held, now: h.now)])
        h.tick()
        var s = h.state
        #expect(s.queuePosition(of: first) == 1)
        #expect(s.queuePosition(of: second) == 2)
        #expect(s.queuePosition(of: held) == nil)
        #expect(s.queuePositions() == [first: 1, second: 2])
        #expect(h.job(first)?.pendingReason == .noCapacity(datacenter: "a", pool: "cpu"))
        #expect(h.job(first)?.estimatedStart == h.now.advanced(bySeconds: 600))
        #expect(h.job(second)?.estimatedStart == h.now.advanced(bySeconds: 600), "both fit once the 8-core job ends")
        #expect(h.job(held)?.pendingReason == .held)
    }

    @Test("a dry run says where and when, and changes nothing")
    func dryRun() throws {
        var h = ScenarioHarness(Self.hub)
        try h.submit(.job().cpu(6).lasting(600))
        h.tick()
        let before = h.state.records
        let now = try h.state.dryRun(JobBuilder.job().cpu(2).lasting(60).spec, now: h.now)
        #expect(now.pool != nil)
        #expect(now.estimatedStart == h.now)
        let later = try h.state.dryRun(JobBuilder.job().cpu(4).lasting(60).spec, now: h.now)
        #expect(later.pool == nil)
        #expect(later.job.pendingReason == .noCapacity(datacenter: "a", pool: "cpu"))
        #expect(later.estimatedStart == h.now.advanced(bySeconds: 600))
        #expect(later.queuePosition == 1)
        let preempting = try h.state.dryRun(JobBuilder.job().class("critical").cpu(4).lasting(60).spec, now: h.now)
        #expect(preempting.pool != nil)
        #expect(preempting.preempts.count == 1)
        #expect(h.state.records == before)
        #expect(h.state.pendingCount == 0)
    }
}
