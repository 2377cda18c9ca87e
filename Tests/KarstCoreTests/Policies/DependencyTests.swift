import KarstCore
import KarstTesting
import Testing

/// Dependencies: `dependsOn` waits for success; failure or cancellation fails the dependents.
@Suite struct DependencyTests {
    static let hub = TopologyBuilder().datacenter("a", pools: [("cpu", 64, 256, 0, nil)]).topology

    @Test("a dependent waits with reason dependency and starts once every dependency succeeded")
    func waitsForSuccess() throws {
        var h = ScenarioHarness(Self.hub)
        let a = try h.submit(.job("a").lasting(60))
        let b = try h.submit(.job("b").lasting(120))
        let c = try h.submit(.job("c").after(a, b).lasting(10))
        h.tick()
        #expect(h.job(c)?.state == .pending)
        #expect(h.job(c)?.pendingReason == .dependency(on: a))
        h.run(seconds: 61)
        #expect(h.job(c)?.pendingReason == .dependency(on: b))
        h.run(seconds: 60)
        #expect(h.job(c)?.state == .running)
        #expect(h.capacityViolation() == nil)
    }

    @Test("when a dependency fails or is cancelled the dependents fail, down the chain")
    func failureCascades() throws {
        var h = ScenarioHarness(Self.hub)
        let a = try h.submit(.job("a"))
        let b = try h.submit(.job("b").after(a))
        let c = try h.submit(.job("c").after(b))
        let other = try h.submit(.job("d"))
        let d = try h.submit(.job("e").after(other))
        h.tick()
        h.record([try h.state.complete(a, succeeded: false, message: "exit 3", now: h.now)])
        let events = h.tick()
        #expect(h.job(b)?.state == .failed)
        #expect(h.job(c)?.state == .failed)
        #expect(h.job(b)?.message == "dependency \(a) failed")
        #expect(events.filter { $0.kind == .failed }.map(\.job.id) == [b, c])
        h.record([try h.state.cancel(other, now: h.now)])
        h.tick()
        #expect(h.job(d)?.state == .failed)
        #expect(h.job(d)?.message == "dependency \(other) cancelled")
        #expect(h.capacityViolation() == nil)
    }

    @Test("unknown ids, self references and dependencies on failed jobs are rejected at submission")
    func rejected() throws {
        var h = ScenarioHarness(Self.hub)
        let a = try h.submit(.job("a"))
        #expect(throws: SchedulerError.invalidJob(field: "dependsOn[0]", reason: "unknown job job-999")) {
            try h.submit(.job().after(JobID(999)))
        }
        let next = h.state.nextJobID
        #expect(throws: SchedulerError.self) { try h.submit(.job().after(next)) }
        h.tick()
        _ = try h.state.cancel(a, now: h.now)
        #expect(throws: SchedulerError.self) { try h.submit(.job().after(a)) }
    }

    @Test("a batch may depend on its own earlier jobs, never on later ones (no cycle can form)")
    func batchOrder() throws {
        var s = SchedulerState(topology: Self.hub)
        let now = Instant(microseconds: 0)
        let first = s.nextJobID
        let second = JobID(first.rawValue + 1)
        var x = JobBuilder.job("x").spec
        var y = JobBuilder.job("y").after(first).spec
        let events = try s.submitBatch([x, y], now: now)
        #expect(events.count == 2)
        x.dependsOn = [JobID(s.nextJobID.rawValue + 1)]
        y.dependsOn = []
        #expect(throws: SchedulerError.self) { try s.submitBatch([x, y], now: now) }
        #expect(s.job(second)?.pendingReason == .dependency(on: first))
    }

    @Test("waiting dependents survive a restore")
    func restore() throws {
        var h = ScenarioHarness(Self.hub)
        let a = try h.submit(.job("a").lasting(60))
        let b = try h.submit(.job("b").after(a).lasting(60))
        h.tick()
        let (restored, _) = try SchedulerState.restore(topology: Self.hub, records: h.state.records,
                                                       nextJobNumber: h.state.nextJobNumberValue)
        h.state = restored
        #expect(h.capacityViolation() == nil)
        h.run(seconds: 61)
        #expect(h.job(b)?.state == .running)
    }
}
