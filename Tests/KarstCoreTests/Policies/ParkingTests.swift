import KarstCore
import KarstTesting
import Testing

/// Jobs that only the clock or a change of the hub can help are parked, and do not hold back
/// the work behind them.
@Suite struct ParkingTests {
    /// Two data centres: "a" with CPUs, "b" with the only accelerators. A tenant may have one
    /// miss per pass before the pass moves on to others.
    static let hub = TopologyBuilder()
        .datacenter("a", pools: [("cpu", 64, 256, 0, nil)])
        .datacenter("b", pools: [("npu", 64, 256, 8, "ascend-910b")])
        .with { $0.settings.maxTenantMissesPerPass = 1 }.topology

    @Test("jobs whose only data centre is offline are parked until it changes state, and their tenant's other work runs")
    func offlineDatacenterDoesNotBlockTheTenant() throws {
        var h = ScenarioHarness(Self.hub)
        _ = try h.state.setOffline("b", now: h.now)
        let training = try (0..<3).map { _ in try h.submit(.job().priority(10).accelerators(1).lasting(600)) }
        let cpuWork = try h.submit(.job().lasting(600))
        h.tick()
        // The first pass meets a training job first and passes over the tenant after that miss.
        #expect(h.job(training[0])?.pendingReason == .datacenterUnavailable)
        h.run(seconds: 1)
        h.run(seconds: 1)
        h.run(seconds: 1)
        // Each training job was parked when it was examined; the CPU job is no longer held back.
        #expect(h.job(cpuWork)?.state == .running)
        #expect(training.allSatisfy { h.job($0)?.pendingReason == .datacenterUnavailable })
        #expect(h.plans.last?.waiting.isEmpty == true, "parked jobs are not examined again")
        #expect(h.state.pendingCount == 3)
        #expect(h.capacityViolation() == nil)
        _ = try h.state.resume("b")
        h.run(seconds: 1)
        #expect(training.allSatisfy { h.job($0)?.state == .running })
    }

    @Test("a window that has not opened is examined once, not at every pass, and does not hold back its tenant")
    func windowsAreParked() throws {
        var h = ScenarioHarness(Self.hub)
        let opens = h.now.advanced(bySeconds: 3600)
        let later = try h.submit(.job().priority(10).lasting(60).notBefore(opens))
        h.tick()
        let now = try h.submit(.job().lasting(60))
        h.run(seconds: 1)
        #expect(h.job(now)?.state == .running)
        #expect(h.plans.last?.waiting.contains { $0.job == later } == false)
        #expect(h.job(later)?.pendingReason == .window(opens: opens))
        h.clock.set(opens)
        h.tick()
        #expect(h.job(later)?.state == .running)
    }
}
