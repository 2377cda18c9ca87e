import KarstCore
import KarstTesting
import Testing

/// Preempting, draining and stopping a site agent's run: the capacity is reused only once the
/// agent confirmed the run stopped (or was declared lost), and the preemptor it was stopped for
/// gets it — not a newcomer, and without a second victim meanwhile.
@Suite struct AgentPreemptionTests {
    let hub = TopologyBuilder()
        .datacenter("model", pools: [("cpu", 8, 64, 0, nil)])
        .datacenter("site", pools: [("cpu", 8, 64, 0, nil)])
        .agents("site")

    /// Site full with `keep` (not preemptible) and `victim`, both of the lowest class.
    private func fullSite() throws -> (h: ScenarioHarness, session: UInt64, keep: JobID, victim: JobID) {
        var h = ScenarioHarness(hub.topology)
        let s = try h.state.connectAgent("a1", datacenter: "site", now: h.now).session
        let keep = try h.submit(.job().class("batch").tenant("a").cpu(4).preemptible(false).running("/bin/sleep", "600"))
        let victim = try h.submit(.job().class("batch").tenant("c").cpu(4).running("/bin/sleep", "600"))
        h.tick()
        #expect(h.job(keep)?.state == .running)
        #expect(h.job(victim)?.state == .running)
        return (h, s, keep, victim)
    }

    @Test func aPreemptedRunHoldsItsCapacityUntilTheAgentConfirmsThenThePreemptorGetsIt() throws {
        var (h, s, keep, victim) = try fullSite()
        let preemptor = try h.submit(.job().class("critical").tenant("a").cpu(4).running("/bin/true").only("site"))
        let first = h.tick()
        #expect(first.map(\.kind) == [.stopping])
        #expect(first.first?.detail?.contains("preempted by \(preemptor)") == true)
        #expect(h.job(victim)?.state == .stopping)
        #expect(h.job(victim)?.preemptions == 1)
        #expect(h.state.agents.lease(of: victim)?.stopReason == .preempted)
        #expect(h.job(preemptor)?.state == .pending)
        #expect(h.job(preemptor)?.pendingReason?.description == "preempting:waiting for 1 run to stop")
        // While the victim stops, passes neither place the preemptor nor pick another victim.
        for _ in 0..<5 {
            #expect(h.run(seconds: 1).isEmpty)
            try h.state.agentReport("a1", session: s, now: h.now)
        }
        #expect(h.job(keep)?.state == .running)
        #expect(h.capacityViolation() == nil)
        // The agent confirms; a newcomer of the same class, whose tenant has the lower share and
        // so comes first in line, does not take what was freed for the preemptor.
        let (answer, ended) = try h.state.agentEnded("a1", session: s, run: RunID(job: victim, attempt: 1),
                                                     outcome: .init(succeeded: false, message: "killed"), now: h.now)
        #expect(answer == .accepted(stopped: .preempted))
        #expect(ended.map(\.kind) == [.requeued])
        let newcomer = try h.submit(.job().class("critical").tenant("b").cpu(4).running("/bin/true").only("site"))
        let placed = h.tick().filter { $0.kind == .placed }.map(\.job.id)
        #expect(placed == [preemptor])
        #expect(h.job(preemptor)?.placement.map { h.state.names(of: $0).datacenter } == "site")
        #expect(h.job(newcomer)?.state == .pending)
        #expect(h.job(victim)?.state == .pending)
        #expect(h.job(keep)?.state == .running)
        #expect(h.capacityViolation() == nil)
    }

    @Test func aPreemptorCancelledWhileWaitingLeavesTheCapacityToTheQueue() throws {
        var (h, s, _, victim) = try fullSite()
        let preemptor = try h.submit(.job().class("critical").cpu(4).running("/bin/true").only("site"))
        h.tick()
        #expect(h.job(victim)?.state == .stopping)
        #expect(try h.state.cancel(preemptor, now: h.now).kind == .cancelled)
        _ = try h.state.agentEnded("a1", session: s, run: RunID(job: victim, attempt: 1),
                                   outcome: .init(succeeded: false, message: "killed"), now: h.now)
        h.tick()
        // The victim, requeued, runs again (attempt 2) in the capacity nobody is waiting for.
        #expect(h.job(victim)?.state == .running)
        #expect(h.job(victim)?.attempts == 2)
        #expect(h.capacityViolation() == nil)
    }

    @Test func aVictimWhoseAgentIsLostEndsThePreemptionToo() throws {
        var (h, _, _, victim) = try fullSite()
        let preemptor = try h.submit(.job().class("critical").cpu(4).running("/bin/true").only("site"))
        h.tick()
        let s2 = try h.state.connectAgent("a2", datacenter: "site", now: h.now).session
        for _ in 0..<16 {
            h.clock.advance(bySeconds: 1)
            try h.state.agentReport("a2", session: s2, now: h.now)
            h.tick()
        }
        // a1 was lost: its runs requeued (the preempted victim as a preemption), and the preemptor
        // placed on a2 in the capacity they held.
        #expect(h.job(preemptor)?.state == .running)
        #expect(h.state.agents.lease(of: preemptor)?.agent == AgentID("a2"))
        #expect(h.job(victim)?.state != .stopping)
        #expect(h.capacityViolation() == nil)
    }

    @Test func aRestartWhileVictimsStopKeepsThePreemptorNominated() throws {
        var (h, s, keep, victim) = try fullSite()
        let preemptor = try h.submit(.job().class("critical").tenant("a").cpu(4).running("/bin/true").only("site"))
        h.tick()
        let (restored, _) = try SchedulerState.restore(topology: hub.topology, records: h.state.records,
                                                       nextJobNumber: 100)
        h.state = restored
        _ = try h.state.connectAgent("a1", datacenter: "site", now: h.now)
        h.tick()
        #expect(h.job(victim)?.state == .stopping)
        #expect(h.job(keep)?.state == .running)
        #expect(h.job(preemptor)?.pendingReason?.description == "preempting:waiting for 1 run to stop")
        _ = s
    }

    @Test func drainingWithStopRunsStopsAgentsRunsAndRequeuesModelledOnes() throws {
        var h = ScenarioHarness(hub.topology)
        let s = try h.state.connectAgent("a1", datacenter: "site", now: h.now).session
        let onAgent = try h.submit(.job().cpu(2).running("/bin/sleep", "600"))
        let modelled = try h.submit(.job().cpu(2).lasting(600))
        h.tick()
        let (_, agentEvents) = try h.state.drainStopping("site", now: h.now)
        #expect(agentEvents.map(\.kind) == [.stopping])
        #expect(h.state.agents.lease(of: onAgent)?.stopReason == .drained)
        let (usage, modelEvents) = try h.state.drainStopping("model", now: h.now)
        #expect(usage.state == .draining)
        #expect(modelEvents.map(\.kind) == [.requeued])
        #expect(h.job(modelled)?.state == .pending)
        // Drained, the data centres take nothing new: the agent's confirmation requeues its run,
        // which waits.
        let (_, ended) = try h.state.agentEnded("a1", session: s, run: RunID(job: onAgent, attempt: 1),
                                                outcome: .init(succeeded: false, message: "killed"), now: h.now)
        #expect(ended.map(\.kind) == [.requeued])
        h.tick()
        #expect(h.job(onAgent)?.state == .pending)
        #expect(h.job(modelled)?.state == .pending)
        #expect(h.capacityViolation() == nil)
    }
}

/// A seeded storm of submissions, preemptions, cancellations, drains and agents that confirm
/// stops late: the capacity of a stopping run is never reused before its end is confirmed. In
/// the storms without drains (a drain drops the nominations into the drained data centre, and
/// such a preemptor may then start elsewhere), no preemptor runs while a run it preempted still
/// stops.
@Suite struct AgentPreemptionPropertyTests {
    @Test(arguments: 1...12)
    func stoppingCapacityIsNeverReusedEarly(seed: UInt64) throws {
        let hub = TopologyBuilder()
            .datacenter("site", pools: [("cpu", 16, 128, 0, nil)])
            .datacenter("east", pools: [("cpu", 8, 64, 0, nil)])
            .agents("site").agents("east")
        var h = ScenarioHarness(hub.topology)
        var random = SeededRandom(seed: seed)
        var sessions: [String: UInt64] = [:]
        for (agent, dc) in [("s1", "site"), ("e1", "east")] {
            sessions[agent] = try h.state.connectAgent(agent, datacenter: dc, now: h.now).session
        }
        var ids: [JobID] = []
        var stops = 0
        let drains = seed % 2 == 1
        for _ in 0..<400 {
            switch random.next() % 10 {
            case 0...3:
                let cls = ["critical", "online", "batch", "best-effort"][Int(random.next() % 4)]
                if let id = try? h.submit(.job().class(cls).tenant(["a", "b", "c"][Int(random.next() % 3)])
                    .cpu(Double(1 + random.next() % 6)).retries(3).running("/bin/true")) { ids.append(id) }
            case 4:
                if let id = ids.randomElement(using: &random), let e = try? h.state.cancel(id, now: h.now) { h.record([e]) }
            case 5:
                if drains, random.next() % 8 == 0 {
                    let dc = ["site", "east"][Int(random.next() % 2)]
                    if let (_, e) = try? h.state.drainStopping(dc, now: h.now) { h.record(e) }
                } else {
                    for dc in ["site", "east"] { _ = try? h.state.resume(dc) }
                }
            default:
                // Agents confirm some runs' ends: those stopping, and some that ran to their end.
                for id in ids {
                    guard let lease = h.state.agents.lease(of: id), random.next() % 3 == 0 else { continue }
                    let stopping = lease.stopReason != nil
                    if stopping { stops += 1 }
                    let outcome = AgentBook.RunOutcome(succeeded: !stopping && random.next() % 4 != 0,
                                                       message: stopping ? "killed" : nil)
                    if let (_, e) = try? h.state.agentEnded(lease.agent.name, session: sessions[lease.agent.name]!,
                                                            run: lease.run, outcome: outcome, now: h.now) { h.record(e) }
                }
            }
            h.clock.advance(bySeconds: 0.5)
            for (agent, session) in sessions { try h.state.agentReport(agent, session: session, now: h.now) }
            h.tick()
            #expect(h.capacityViolation() == nil, "seed \(seed): \(h.capacityViolation() ?? "")")
            for id in ids where !drains {
                guard let job = h.job(id), job.state == .stopping, let by = job.preemptedBy.last,
                      h.state.agents.lease(of: id)?.stopReason == .preempted else { continue }
                #expect(h.job(by)?.state != .running, "seed \(seed): \(by) runs while its victim \(id) still stops")
            }
        }
        #expect(stops > 0, "seed \(seed): the storm should stop runs")
        #expect(h.events.contains { $0.kind == .stopping && $0.detail?.contains("preempted by") == true },
                "seed \(seed): the storm should preempt agents' runs")
    }
}
