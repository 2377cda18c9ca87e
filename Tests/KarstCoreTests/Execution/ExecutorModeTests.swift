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
        try h.state.setAgentsLive(true, in: "site")
        h.tick()
        #expect(h.job(id)?.state == .running)
        #expect(h.job(id)?.placement.map { h.state.names(of: $0).datacenter } == "site")
        // The model does not end a command's run: its duration is an estimate.
        h.run(seconds: 3600)
        #expect(h.job(id)?.state == .running)
        _ = try h.state.complete(id, succeeded: true, message: "exit 0", now: h.now)
        #expect(h.job(id)?.state == .succeeded)
        #expect(h.capacityViolation() == nil)
    }

    @Test func aJobWithoutACommandNeverGoesToAnAgentSite() throws {
        var h = ScenarioHarness(hub.topology)
        try h.state.setAgentsLive(true, in: "site")
        let first = try h.submit(.job().cpu(8).lasting(600))
        let second = try h.submit(.job().cpu(8).lasting(600))
        h.tick()
        #expect(h.job(first)?.state == .running)
        // The model site is full; the agent site is empty, and not for it.
        #expect(h.job(second)?.state == .pending)
        #expect(h.job(second)?.pendingReason?.description == "no-capacity:model/cpu")
    }

    @Test func aJobNoDatacentreCanExecuteIsRefusedAtSubmission() throws {
        var h = ScenarioHarness(hub.topology)
        #expect(throws: SchedulerError.self) { try h.submit(.job().running("/bin/true").only("model")) }
        do {
            try h.submit(.job().running("/bin/true").only("model"))
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

    @Test func agentsStayLiveAcrossAReload() throws {
        var h = ScenarioHarness(hub.topology)
        try h.state.setAgentsLive(true, in: "site")
        _ = try h.state.reconfigure(to: hub.topology, now: h.now)
        #expect(h.state.agentsLive == [false, true])
        let id = try h.submit(.job().running("/bin/true"))
        h.tick()
        #expect(h.job(id)?.state == .running)
        try h.state.setAgentsLive(false, in: "site")
        let next = try h.submit(.job().running("/bin/true"))
        h.tick()
        #expect(h.job(next)?.pendingReason?.description == "datacenter-unavailable:no agent")
    }
}
