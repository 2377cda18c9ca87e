import KarstCore
import KarstTesting
import Testing

/// Time-shifting inside flexibility windows, and deadlines.
@Suite struct TimeShiftTests {
    /// Power costs 0.6 CNY/kWh by day and 0.2 from 01:00 to 05:00 local time (UTC+8), with more
    /// clean power at night too.
    static let nightCheap: Topology = {
        let prices = (0..<24).map { (1...4).contains($0) ? 0.2 : 0.6 }
        let cleans = (0..<24).map { (1...4).contains($0) ? 0.9 : 0.5 }
        return TopologyBuilder().datacenter("a", prices: prices, cleans: cleans, pools: [("cpu", 64, 256, 0, nil)]).topology
    }()

    /// 18:00 local time on 1 July 2026.
    static let evening = Instant(rfc3339: "2026-07-01T18:00:00+08:00")!

    @Test("a flexible job is delayed to the cheap, clean night hours inside its window")
    func shiftsToTheNight() throws {
        var h = ScenarioHarness(Self.nightCheap, clock: ManualClock(start: Self.evening))
        let window = Self.evening.advanced(bySeconds: 12 * 3600)
        let flexible = try h.submit(.job().lasting(3600).notAfter(window))
        let rigid = try h.submit(.job().lasting(3600))
        h.tick()
        let oneAM = Instant(rfc3339: "2026-07-02T01:00:00+08:00")!
        #expect(h.job(rigid)?.state == .running)
        #expect(h.job(flexible)?.pendingReason == .shifted(until: oneAM))
        #expect(h.job(flexible)?.estimatedStart == oneAM)
        // Parked: judged again at the next whole hour, not at every pass before it.
        let sevenPM = Instant(rfc3339: "2026-07-01T19:00:00+08:00")!
        #expect(h.plans.last?.wakeAt == sevenPM)
        h.run(seconds: 600)
        #expect(h.plans.last?.waiting.contains { $0.job == flexible } == false)
        #expect(h.job(flexible)?.pendingReason == .shifted(until: oneAM))
        #expect(h.state.pendingCount == 1)
        #expect(h.state.queuePosition(of: flexible) == nil)
        #expect(h.capacityViolation() == nil)
        h.clock.set(sevenPM)
        h.tick()
        #expect(h.plans.last?.waiting.first { $0.job == flexible }?.reason == .shifted(until: oneAM))
        h.clock.set(oneAM)
        h.tick()
        #expect(h.job(flexible)?.state == .running)
        #expect(h.job(flexible)?.startedAt == oneAM)
    }

    @Test("never so late that the expected run would end after the deadline")
    func deadlineBoundsTheShift() throws {
        var h = ScenarioHarness(Self.nightCheap, clock: ManualClock(start: Self.evening))
        let window = Self.evening.advanced(bySeconds: 12 * 3600)
        // Due at 02:30: the 02:00 start would end at 03:00, so 01:00 is the last cheap start.
        let due = Instant(rfc3339: "2026-07-02T02:30:00+08:00")!
        let job = try h.submit(.job().lasting(3600).notAfter(window).deadline(due))
        h.tick()
        #expect(h.job(job)?.pendingReason == .shifted(until: Instant(rfc3339: "2026-07-02T01:00:00+08:00")!))
        // Due at 01:30: no cheap hour ends in time, so it runs now.
        let tight = try h.submit(.job().lasting(3600).notAfter(window).deadline(Instant(rfc3339: "2026-07-02T01:30:00+08:00")!))
        h.tick()
        #expect(h.job(tight)?.state == .running)
    }

    @Test("a cancelled or held job leaves its parking; a released one rejoins the line")
    func parkedJobsLeaveCleanly() throws {
        var h = ScenarioHarness(Self.nightCheap, clock: ManualClock(start: Self.evening))
        let window = Self.evening.advanced(bySeconds: 12 * 3600)
        let a = try h.submit(.job().lasting(3600).notAfter(window))
        let b = try h.submit(.job().lasting(3600).notAfter(window))
        h.tick()
        #expect(h.state.pendingCount == 2)
        h.record([try h.state.cancel(a, now: h.now), try h.state.hold(b, now: h.now)])
        #expect(h.state.pendingCount == 0)
        #expect(h.capacityViolation() == nil)
        h.record([try h.state.release(b, now: h.now)])
        #expect(h.state.pendingCount == 1)
        #expect(h.capacityViolation() == nil)
        h.run(seconds: 60)
        // Back in line and judged again at once (still worth shifting).
        #expect(h.plans.last?.waiting.contains { $0.job == b } == true)
        h.clock.set(Instant(rfc3339: "2026-07-02T01:00:00+08:00")!)
        h.tick()
        #expect(h.job(b)?.state == .running)
        #expect(h.job(a)?.state == .cancelled)
    }

    @Test("never past the window: a window closing before the cheap hours runs now")
    func windowEndsFirst() throws {
        var h = ScenarioHarness(Self.nightCheap, clock: ManualClock(start: Self.evening))
        let job = try h.submit(.job().lasting(3600).notAfter(Self.evening.advanced(bySeconds: 4 * 3600)))
        h.tick()
        #expect(h.job(job)?.state == .running)
    }

    @Test("a window that has not opened holds the job until it does")
    func notBefore() throws {
        var h = ScenarioHarness(Self.nightCheap, clock: ManualClock(start: Self.evening))
        let opens = Self.evening.advanced(bySeconds: 600)
        let job = try h.submit(.job().lasting(60).notBefore(opens))
        h.tick()
        #expect(h.job(job)?.pendingReason == .window(opens: opens))
        #expect(h.job(job)?.estimatedStart == opens)
        h.clock.set(opens)
        h.tick()
        #expect(h.job(job)?.state == .running)
    }

    @Test("a job at risk of missing its deadline is ranked ahead of its class, earliest deadline first")
    func earliestDeadlineFirst() throws {
        let hub = TopologyBuilder().datacenter("a", pools: [("cpu", 1, 256, 0, nil)]).topology
        var h = ScenarioHarness(hub)
        try h.submit(.job("running").lasting(100))
        h.tick()
        // Queued in this order, all one core: a high-priority job, then two with deadlines.
        let high = try h.submit(.job("high").priority(9).lasting(100))
        let late = try h.submit(.job("late").lasting(100).deadline(h.now.advanced(bySeconds: 600)))
        let soon = try h.submit(.job("soon").lasting(100).deadline(h.now.advanced(bySeconds: 400)))
        h.tick()
        var s = h.state
        #expect(s.queuePosition(of: soon) == 1)
        #expect(s.queuePosition(of: late) == 2)
        #expect(s.queuePosition(of: high) == 3)
        h.run(seconds: 100)
        #expect(h.job(soon)?.state == .running)
        h.run(seconds: 100)
        #expect(h.job(late)?.state == .running)
        #expect(h.job(high)?.state == .pending)
    }

    @Test("a missed deadline is one event")
    func missedDeadline() throws {
        let hub = TopologyBuilder().datacenter("a", pools: [("cpu", 1, 256, 0, nil)]).topology
        var h = ScenarioHarness(hub)
        try h.submit(.job("hog").lasting(1000))
        h.tick()
        let job = try h.submit(.job("due").lasting(100).deadline(h.now.advanced(bySeconds: 300)))
        h.run(seconds: 200)
        var missed = h.run(seconds: 200).filter { $0.kind == .deadlineMissed }
        missed += h.run(seconds: 200).filter { $0.kind == .deadlineMissed }
        #expect(missed.map(\.job.id) == [job])
        #expect(h.job(job)?.deadlineMissed == true)
    }
}
