import KarstCore
import KarstStore
import KarstTesting
import Testing

/// A site agent's lease is stored with its job: after a restart the run is still the agent's
/// (reconciled when it reports, not rerun), and an agent that never comes back is lost a full
/// `lost` after the first tick, its run requeued.
@Suite struct AgentLeaseStoreTests {
    let hub = TopologyBuilder()
        .datacenter("model", pools: [("cpu", 8, 64, 0, nil)])
        .datacenter("site", pools: [("cpu", 8, 64, 0, nil)])
        .agents("site")

    @Test func aLeaseSurvivesARestartAndItsAgentGetsAFreshGrace() throws {
        var h = ScenarioHarness(hub.topology)
        _ = try h.state.connectAgent("gui'an;node=1%", datacenter: "site", now: h.now)
        let running = try h.submit(.job().cpu(2).running("/bin/sleep", "600"))
        let stopping = try h.submit(.job().cpu(2).running("/bin/sleep", "600"))
        h.tick()
        // Where the run is, as its agent reported it: kept with the job, awkward characters and all.
        let s = h.state.agents.agent("gui'an;node=1%")!.session
        _ = try h.state.agentStarted("gui'an;node=1%", session: s, run: RunID(job: running, attempt: 1), siteID: "pgid 7=7",
                                     output: "/var/runs/a;b=c%/output", limits: "rlimits: RLIMIT_DATA 2048 MiB", now: h.now)
        _ = try h.state.cancel(stopping, now: h.now)
        #expect(h.job(stopping)?.state == .stopping)

        let dir = tempDir()
        let store = try KarstStore(directory: dir)
        var batch = StoreBatch()
        batch.inserted = h.state.records
        batch.nextJobNumber = h.state.nextJobNumberValue
        try store.commit(batch)
        let stored = try KarstStore(directory: dir).load()
        #expect(stored.records == h.state.records)
        #expect(stored.records.map { $0.lease?.agent } == ["gui'an;node=1%", "gui'an;node=1%"])
        #expect(stored.records.map { $0.lease?.stop } == [nil, .cancelled])
        #expect(stored.records.first?.lastRun == RunPlace(agent: "gui'an;node=1%", attempt: 1, siteID: "pgid 7=7",
                                                          output: "/var/runs/a;b=c%/output", limits: "rlimits: RLIMIT_DATA 2048 MiB"))

        var (state, _) = try SchedulerState.restore(topology: hub.topology, records: stored.records,
                                                    nextJobNumber: stored.nextJobNumber)
        #expect(state.checkInvariants() == nil)
        #expect(state.agents.lease(of: running)?.run == RunID(job: running, attempt: 1))
        #expect(state.agents.lease(of: stopping)?.stopReason == .cancelled)
        #expect(state.agentsLive == [false, false])
        // The grace starts at the first tick after the restart: lost 15 s later, not before.
        let restart = h.now.advanced(bySeconds: 3600)
        #expect(state.tick(now: restart).isEmpty)
        #expect(state.tick(now: restart.advanced(bySeconds: 14)).isEmpty)
        let lost = state.tick(now: restart.advanced(bySeconds: 15))
        #expect(lost.filter { $0.job.id == running }.map(\.kind).first == .requeued)
        #expect(lost.filter { $0.job.id == stopping }.map(\.kind) == [.cancelled])
        #expect(state.checkInvariants() == nil)
    }
}
