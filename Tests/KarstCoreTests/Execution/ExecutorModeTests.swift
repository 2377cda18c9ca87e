import KarstCore
import KarstTesting
import Testing

/// Execution mode per data centre: a job with a command runs only where site agents execute,
/// and only while one of them is live; a job without one only where the model executes.
@Suite struct ExecutorModeTests {
    let hub = TopologyBuilder()
        .datacenter("model", pools: [("cpu", 8, 64, 0, nil)])
        .datacenter("site", pools: [("cpu", 8, 64, 0, nil)])
        .agents("site")

    @Test func aCommandWaitsForALiveAgentAndRunsOnlyThere() throws {
        var h = ScenarioHarness(hub.topology)
        let id = try h.submit(.job().cpu(2).lasting(60).running("/bin/true"))
        h.tick()
        #expect(h.job(id)?.state == .pending)
        #expect(h.job(id)?.pendingReason?.description == "datacenter-unavailable:no agent")
        let s = try h.state.connectAgent("a1", datacenter: "site", now: h.now).session
        h.tick()
        #expect(h.job(id)?.state == .running)
        #expect(h.job(id)?.placement.map { h.state.names(of: $0).datacenter } == "site")
        #expect(h.state.agents.lease(of: id)?.run == RunID(job: id, attempt: 1))
        // The model does not end a command's run: its duration is an estimate.
        for _ in 0..<10 {
            try h.state.agentReport("a1", session: s, now: h.now)
            h.run(seconds: 1)
        }
        #expect(h.job(id)?.state == .running)
        #expect(throws: SchedulerError.self) { try h.state.complete(id, succeeded: true, now: h.now) }
        let (answer, events) = try h.state.agentEnded("a1", session: s, run: RunID(job: id, attempt: 1),
                                                      outcome: .init(succeeded: true, exitStatus: 0), now: h.now)
        #expect(answer == .accepted(stopped: nil))
        #expect(events.map(\.kind) == [.succeeded])
        #expect(h.job(id)?.state == .succeeded)
        #expect(h.state.allocated.allSatisfy { $0 == .zero })
        #expect(h.capacityViolation() == nil)
    }

    @Test func aJobWithoutACommandNeverGoesToAnAgentSite() throws {
        var h = ScenarioHarness(hub.topology)
        _ = try h.state.connectAgent("a1", datacenter: "site", now: h.now)
        let first = try h.submit(.job().cpu(8).lasting(600))
        let second = try h.submit(.job().cpu(8).lasting(600))
        h.tick()
        #expect(h.job(first)?.state == .running)
        // The model site is full; the agent site is empty, and not for it.
        #expect(h.job(second)?.state == .pending)
        #expect(h.job(second)?.pendingReason?.description == "no-capacity:model/cpu")
        // An agent may connect only where agents execute.
        #expect(throws: SchedulerError.self) { try h.state.connectAgent("a2", datacenter: "model", now: h.now) }
    }

    @Test func aJobNoDatacentreCanExecuteIsRefusedAtSubmission() throws {
        var h = ScenarioHarness(hub.topology)
        do {
            try h.submit(.job().running("/bin/true").only("model"))
            Issue.record("a command was accepted where only the model executes")
        } catch {
            #expect("\(error)".contains("no allowed data centre runs work on site agents"))
        }
        let everyAgent = TopologyBuilder().datacenter("site", pools: [("cpu", 8, 64, 0, nil)]).agents("site")
        var g = ScenarioHarness(everyAgent.topology)
        do {
            try g.submit(.job())
            Issue.record("a job without a command was accepted where only agents execute")
        } catch {
            #expect("\(error)".contains("give it a command"))
        }
    }

    @Test func aFailedRunIsRetriedAsANewAttemptAndAStaleReportChangesNothing() throws {
        var h = ScenarioHarness(hub.topology)
        let s = try h.state.connectAgent("a1", datacenter: "site", now: h.now).session
        let id = try h.submit(.job().cpu(2).retries(1).running("/bin/false"))
        h.tick()
        let first = RunID(job: id, attempt: 1)
        let (answer, started) = try h.state.agentStarted("a1", session: s, run: first, siteID: "pid 10", output: "/r/out", now: h.now)
        #expect(answer == .run)
        #expect(started?.kind == .started && started?.job.lastRun?.output == "/r/out")
        // Reported again (after a reconnect): no second event.
        #expect(try h.state.agentStarted("a1", session: s, run: first, siteID: "pid 10", output: "/r/out", now: h.now).1 == nil)
        let (_, failed) = try h.state.agentEnded("a1", session: s, run: first, outcome: .init(succeeded: false, exitStatus: 1),
                                                 now: h.now)
        #expect(failed.map(\.kind) == [.requeued])
        h.tick()
        #expect(h.state.agents.lease(of: id)?.run == RunID(job: id, attempt: 2))
        // A late repeat of attempt 1: nothing changes.
        #expect(try h.state.agentEnded("a1", session: s, run: first, outcome: .init(succeeded: true), now: h.now).0 == .stale)
        #expect(try h.state.agentStarted("a1", session: s, run: first, siteID: "pid 10", now: h.now).0 == .kill)
        #expect(h.job(id)?.state == .running)
        #expect(h.job(id)?.attempts == 2)
    }

    @Test func aRunKilledByItsAgentsFenceIsRequeuedNotFailed() throws {
        var h = ScenarioHarness(hub.topology)
        let s = try h.state.connectAgent("a1", datacenter: "site", now: h.now).session
        let id = try h.submit(.job().cpu(2).running("/bin/sleep", "600"))
        h.tick()
        let (answer, events) = try h.state.agentEnded("a1", session: s, run: RunID(job: id, attempt: 1),
                                                      outcome: .init(succeeded: false, message: "killed: agent fenced", fenced: true),
                                                      now: h.now)
        #expect(answer == .accepted(stopped: nil))
        #expect(events.map(\.kind) == [.requeued])
        #expect(h.job(id)?.state == .pending, "no retries, yet not failed: the fence is not the job's failure")
        #expect(h.job(id)?.message?.contains("fence") == true)
        h.tick()
        #expect(h.state.agents.lease(of: id)?.run == RunID(job: id, attempt: 2))
        #expect(h.capacityViolation() == nil)
    }

    @Test func aCancelledRunHoldsItsCapacityUntilTheAgentConfirms() throws {
        var h = ScenarioHarness(hub.topology)
        let s = try h.state.connectAgent("a1", datacenter: "site", now: h.now).session
        let id = try h.submit(.job().cpu(8).running("/bin/sleep", "600"))
        let next = try h.submit(.job().cpu(8).running("/bin/true"))
        h.tick()
        let e = try h.state.cancel(id, now: h.now)
        #expect(e.kind == .stopping)
        #expect(h.job(id)?.state == .stopping)
        // Its capacity is still held: the next job cannot start yet.
        h.tick()
        #expect(h.job(next)?.state == .pending)
        #expect(h.capacityViolation() == nil)
        // Cancelling again changes nothing; the agent confirms the kill.
        #expect(try h.state.cancel(id, now: h.now).kind == .stopping)
        let (answer, ended) = try h.state.agentEnded("a1", session: s, run: RunID(job: id, attempt: 1),
                                                     outcome: .init(succeeded: false, message: "killed"), now: h.now)
        #expect(answer == .accepted(stopped: .cancelled))
        #expect(ended.map(\.kind) == [.cancelled])
        h.tick()
        #expect(h.job(next)?.state == .running)
        #expect(h.capacityViolation() == nil)
    }

    @Test func aLostAgentsRunsAreRequeuedAndRunElsewhere() throws {
        var h = ScenarioHarness(hub.topology)
        let s1 = try h.state.connectAgent("a1", datacenter: "site", now: h.now).session
        let id = try h.submit(.job().cpu(2).running("/bin/sleep", "600"))
        h.tick()
        #expect(h.state.agents.lease(of: id)?.agent == AgentID("a1"))
        let s2 = try h.state.connectAgent("a2", datacenter: "site", now: h.now).session
        // a2 keeps reporting; a1 falls silent: after `lost` (15 s) its run comes back, attempt 2, to a2.
        var lost: [Event] = []
        for _ in 0..<16 {
            h.clock.advance(bySeconds: 1)
            try h.state.agentReport("a2", session: s2, now: h.now)
            lost += h.tick().filter { $0.kind == .requeued }
        }
        #expect(lost.count == 1)
        #expect(lost.first?.detail?.contains("agent a1 lost") == true)
        #expect(h.state.agents.lease(of: id)?.run == RunID(job: id, attempt: 2))
        #expect(h.state.agents.lease(of: id)?.agent == AgentID("a2"))
        // a1's late report is refused: it must kill everything and connect again.
        #expect(throws: SchedulerError.self) {
            try h.state.agentEnded("a1", session: s1, run: RunID(job: id, attempt: 1), outcome: .init(succeeded: true), now: h.now)
        }
        #expect(h.capacityViolation() == nil)
    }

    @Test func anOfflineSiteStopsItsRunsAndRequeuesThemOnConfirmation() throws {
        var h = ScenarioHarness(hub.topology)
        let s = try h.state.connectAgent("a1", datacenter: "site", now: h.now).session
        let id = try h.submit(.job().cpu(2).running("/bin/sleep", "600"))
        h.tick()
        let (_, events) = try h.state.setOffline("site", now: h.now)
        #expect(events.map(\.kind) == [.stopping])
        #expect(h.job(id)?.state == .stopping)
        let (_, ended) = try h.state.agentEnded("a1", session: s, run: RunID(job: id, attempt: 1),
                                                outcome: .init(succeeded: false, message: "killed"), now: h.now)
        #expect(ended.map(\.kind) == [.requeued])
        #expect(h.job(id)?.state == .pending)
    }

    @Test func agentsAndTheirLeasesSurviveAReload() throws {
        var h = ScenarioHarness(hub.topology)
        _ = try h.state.connectAgent("a1", datacenter: "site", now: h.now)
        let id = try h.submit(.job().running("/bin/true"))
        h.tick()
        _ = try h.state.reconfigure(to: hub.topology, now: h.now)
        #expect(h.state.agentsLive == [false, true])
        #expect(h.state.agents.lease(of: id) != nil)
        #expect(h.job(id)?.state == .running)
    }
}
