import KarstCore
import KarstTesting
import Testing

/// The state's views for operators' gauges: site rates from what runs, waiting jobs by reason.
@Suite struct GaugeTests {
    @Test func aSiteDrawsWhatItsRunningJobsHoldTimesPUE() throws {
        // Price 0.5 CNY/kWh and clean share 0.25 at every hour; PUE 1.5; pools at the default
        // 10 W per core and 400 W per accelerator.
        let t = TopologyBuilder().datacenter("a", pue: 1.5, price: 0.5, clean: 0.25,
                                             pools: [("cpu", 64, 256, 0, nil), ("gpu", 64, 256, 8, "h20")])
            .datacenter("b", pools: [("cpu", 8, 32, 0, nil)]).topology
        var h = ScenarioHarness(t)
        try h.submit(.job().cpu(20).memory(8).only("a"))
        try h.submit(.job().cpu(4).memory(8).accelerators(2, model: "h20").only("a"))
        h.tick()
        let a = try #require(h.state.siteRates(now: h.now).first { $0.datacenter == "a" })
        let it = (24 * 10 + 2 * 400) / 1000.0
        #expect(abs(a.itPowerKW - it) < 1e-9)
        #expect(abs(a.facilityPowerKW - it * 1.5) < 1e-9)
        #expect(abs(a.costCNYPerHour - it * 1.5 * 0.5) < 1e-9)
        #expect(abs(a.carbonKgPerHour - it * 1.5 * 0.75 * t.settings.gridIntensityKgPerKWh) < 1e-9)
        let b = try #require(h.state.siteRates(now: h.now).first { $0.datacenter == "b" })
        #expect(b.facilityPowerKW == 0 && b.costCNYPerHour == 0)
    }

    @Test func waitingJobsAreCountedByReasonAndTenant() throws {
        let t = TopologyBuilder().datacenter("a", pools: [("cpu", 8, 32, 0, nil)]).topology
        var h = ScenarioHarness(t)
        let running = try h.submit(.job().cpu(8).memory(8).tenant("x"))
        try h.submit(.job().cpu(8).memory(8).tenant("x"))                       // no room
        try h.submit(.job().cpu(1).memory(1).tenant("y").after(running))        // waits for it
        try h.submit(.job().cpu(1).memory(1).tenant("y").notBefore(h.now.advanced(bySeconds: 3600)))
        let held = try h.submit(.job().cpu(1).memory(1).tenant("y").notBefore(h.now.advanced(bySeconds: 3600)))
        _ = try h.state.hold(held, now: h.now)
        h.tick()
        let (byReason, pending, runningByTenant) = h.state.waitingAndRunning
        #expect(byReason["no-capacity"] == 1, "\(byReason)")
        #expect(byReason["dependency"] == 1, "\(byReason)")
        #expect(byReason["window"] == 1, "\(byReason)")
        #expect(byReason["held"] == 1, "\(byReason)")
        #expect(pending == ["x": 1, "y": 2])
        #expect(runningByTenant == ["x": 1])
        #expect(Set(byReason.keys).isSubset(of: PendingReason.categories))
    }
}
