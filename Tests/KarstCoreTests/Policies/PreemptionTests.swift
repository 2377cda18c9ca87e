import KarstCore
import KarstTesting
import Testing

/// Preemption: who is evicted, what happens to them, and the damping that keeps it from thrashing.
@Suite struct PreemptionTests {
    /// One pool of 16 cores.
    static let hub = TopologyBuilder().datacenter("a", pools: [("cpu", 16, 1000, 0, nil)])

    @Test("a critical job evicts the lower-class jobs with the least lost work, and only as many as it needs")
    func leastLostWork() throws {
        var h = ScenarioHarness(Self.hub.topology)
        let old = try h.submit(.job("old").class("batch").cpu(8).lasting(10_000))
        h.tick()
        h.run(seconds: 600)
        let young = try h.submit(.job("young").class("batch").cpu(4).lasting(10_000))
        let young2 = try h.submit(.job("young2").class("best-effort").cpu(4).lasting(10_000))
        h.tick()
        h.run(seconds: 60)
        // The pool is full (8 + 4 + 4). A critical job of 4 cores needs one victim: the one
        // with the least lost work among the young ones (both ran 60 s × 4 cores; the tie goes to
        // the newer job), never the old one.
        let urgent = try h.submit(.job("urgent").class("critical").cpu(4).lasting(100))
        let events = h.tick()
        let preempted = events.filter { $0.kind == .preempted }.map(\.job.id)
        #expect(preempted == [young2])
        #expect(h.job(urgent)?.state == .running)
        #expect(h.job(old)?.state == .running)
        #expect(h.job(young)?.state == .running)
        let victim = try #require(h.job(young2))
        #expect(victim.state == .pending)
        #expect(victim.preemptions == 1)
        #expect(victim.preemptedBy == [urgent])
        #expect(victim.attempts == 1)
        #expect(victim.submittedAt < h.now, "the victim keeps its original submit time for aging")
        #expect(h.capacityViolation() == nil)
    }

    @Test("fewest victims: one 8-core victim beats two 4-core ones of the same lost work")
    func fewestVictims() throws {
        var h = ScenarioHarness(Self.hub.topology)
        let big = try h.submit(.job().class("batch").cpu(8).lasting(10_000))
        let a = try h.submit(.job().class("batch").cpu(4).lasting(10_000))
        let b = try h.submit(.job().class("batch").cpu(4).lasting(10_000))
        h.tick()
        h.run(seconds: 60)
        let urgent = try h.submit(.job().class("critical").cpu(8).lasting(100))
        let preempted = Set(h.tick().filter { $0.kind == .preempted }.map(\.job.id))
        // 8 cores × 60 s either way; the single victim wins.
        #expect(preempted == [big])
        #expect(h.job(a)?.state == .running && h.job(b)?.state == .running)
        #expect(h.job(urgent)?.state == .running)
    }

    @Test("non-preemptible jobs and jobs of the preemptor's own class or above are never victims")
    func onlyPreemptibleLowerClasses() throws {
        var h = ScenarioHarness(Self.hub.topology)
        try h.submit(.job().class("batch").cpu(8).preemptible(false).lasting(10_000))
        try h.submit(.job().class("critical").cpu(8).lasting(10_000))
        h.tick()
        let blocked = try h.submit(.job().class("critical").cpu(4).lasting(100))
        #expect(h.tick().allSatisfy { $0.kind != .preempted })
        #expect(h.job(blocked)?.state == .pending)
        // A batch job cannot preempt at all (its class has no preemption rights).
        try h.submit(.job().class("best-effort").cpu(1).lasting(10))
        #expect(h.tick().allSatisfy { $0.kind != .preempted })
    }

    @Test("damping: a job preempted max_preemptions_per_job times is no longer a victim")
    func perJobLimit() throws {
        var hub = Self.hub
        hub.settings.maxPreemptionsPerJob = 2
        var h = ScenarioHarness(hub.topology)
        let victim = try h.submit(.job().class("batch").cpu(16).lasting(100_000))
        h.tick()
        for round in 1...3 {
            let urgent = try h.submit(.job().class("critical").cpu(16).lasting(60))
            h.tick()
            h.run(seconds: 61)  // the critical job ends; the victim starts again
            if round <= 2 {
                #expect(h.job(victim)?.preemptions == round)
            } else {
                // The third critical job waits: the victim has used up its preemptions.
                #expect(h.job(victim)?.preemptions == 2)
                #expect(h.job(victim)?.state == .running)
                #expect(h.job(victim)?.isPreemptible == false)
                #expect(h.job(urgent)?.state == .pending)
            }
        }
    }

    @Test("damping: a pool evicts at most pool_preemptions_per_minute jobs a minute")
    func poolRateLimit() throws {
        var hub = Self.hub
        hub.settings.poolPreemptionsPerMinute = 2
        var h = ScenarioHarness(hub.topology)
        for _ in 0..<16 { try h.submit(.job().class("batch").cpu(1).lasting(100_000)) }
        h.tick()
        for _ in 0..<4 { try h.submit(.job().class("critical").cpu(1).lasting(100_000)) }
        #expect(h.tick().filter { $0.kind == .preempted }.count == 2)
        #expect(h.run(seconds: 30).filter { $0.kind == .preempted }.isEmpty, "still inside the minute")
        #expect(h.run(seconds: 31).filter { $0.kind == .preempted }.count == 2, "a new minute, two more")
        #expect(h.capacityViolation() == nil)
    }

    @Test("no cycles: a job never preempts the job that preempted it")
    func noCycles() throws {
        // Two tenants with quota 8 each on 16 cores; both borrow, then reclaim from each other.
        let hub = Self.hub.tenant("x", quota: Resources(cpu: 8, memoryGiB: 1000))
            .tenant("y", quota: Resources(cpu: 8, memoryGiB: 1000))
        var h = ScenarioHarness(hub.topology)
        // y runs 16 cores: 8 within quota, 8 borrowed.
        let yOwn = try h.submit(.job().tenant("y").class("batch").cpu(8).lasting(100_000))
        h.tick()
        let yBorrowed = try h.submit(.job().tenant("y").class("batch").cpu(8).lasting(100_000))
        h.tick()
        #expect(h.job(yBorrowed)?.borrowed == true)
        #expect(h.job(yOwn)?.borrowed == false)
        // x, within its quota, reclaims: y's borrowed job is evicted, not its own.
        let x = try h.submit(.job().tenant("x").class("batch").cpu(8).lasting(100_000))
        let events = h.tick()
        #expect(events.filter { $0.kind == .preempted }.map(\.job.id) == [yBorrowed])
        #expect(h.job(x)?.state == .running)
        #expect(h.job(x)?.borrowed == false)
        #expect(h.job(yBorrowed)?.preemptedBy == [x])
        // Even were x's job borrowed, y's evicted job could not evict x's in return.
        var s = h.state
        #expect(s.plan(now: h.now).placements.allSatisfy { !$0.victims.contains(x) })
    }
}
