import KarstCore
import KarstTesting
import Testing

@Suite struct LifecycleTests {
    let hub = TopologyBuilder().datacenter("a", pools: [("cpu", 16, 64, 0, nil)])

    @Test func theStateMachineAllowsOnlyItsTransitions() {
        typealias L = JobLifecycle
        #expect(L.on(.place, in: .pending)?.0 == .running)
        #expect(L.on(.hold, in: .pending)?.0 == .held)
        #expect(L.on(.release, in: .held)?.0 == .pending)
        #expect(L.on(.succeed, in: .running)?.0 == .succeeded)
        #expect(L.on(.fail(retry: true), in: .running)?.0 == .pending)
        #expect(L.on(.fail(retry: false), in: .running)?.0 == .failed)
        #expect(L.on(.hold, in: .running) == nil)
        #expect(L.on(.place, in: .held) == nil)
        for terminal in JobState.allCases where terminal.isTerminal {
            for trigger: L.Trigger in [.place, .hold, .release, .cancel, .succeed, .fail(retry: true), .requeue] {
                #expect(L.on(trigger, in: terminal) == nil)
            }
        }
    }

    @Test func modelledExecutorCompletesAfterTheDuration() throws {
        var h = ScenarioHarness(hub.topology)
        let id = try h.submit(.job().cpu(4).lasting(600))
        h.tick()
        #expect(h.job(id)?.state == .running)
        h.run(seconds: 599)
        #expect(h.job(id)?.state == .running)
        let events = h.run(seconds: 1)
        #expect(events.map(\.kind) == [.succeeded])
        #expect(h.job(id)?.finishedAt == h.job(id)?.startedAt?.advanced(bySeconds: 600))
        #expect(h.state.allocated == [.zero])
    }

    @Test func holdReleaseAndCancel() throws {
        var h = ScenarioHarness(hub.topology)
        let id = try h.submit(.job().cpu(4))
        _ = try h.state.hold(id, now: h.now)
        h.tick()
        #expect(h.job(id)?.state == .held)
        #expect(h.job(id)?.pendingReason == .held)
        #expect(throws: SchedulerError.invalidTransition(id: id, state: .held)) { try h.state.hold(id, now: h.now) }
        _ = try h.state.release(id, now: h.now)
        h.tick()
        #expect(h.job(id)?.state == .running)
        let cancelled = try h.state.cancel(id, now: h.now)
        #expect(cancelled.job.state == .cancelled)
        #expect(h.state.allocated == [.zero])
        #expect(throws: SchedulerError.noSuchJob(id: "job-99")) { try h.state.cancel(JobID(99), now: h.now) }
    }

    @Test func failuresAreRetriedUntilMaxRetries() throws {
        var h = ScenarioHarness(hub.topology)
        let id = try h.submit(.job().cpu(4).retries(1))
        h.tick()
        let first = try h.state.complete(id, succeeded: false, message: "OOM", now: h.now)
        #expect(first.kind == .requeued)
        #expect(first.job.state == .pending)
        h.tick()
        #expect(h.job(id)?.attempts == 2)
        let second = try h.state.complete(id, succeeded: false, message: "OOM again", now: h.now)
        #expect(second.kind == .failed)
        #expect(h.job(id)?.message == "OOM again")
        #expect(h.capacityViolation() == nil)
    }

    @Test func offlineRequeuesRunningJobsAndKeepsTheirAge() throws {
        let two = hub.datacenter("b", pools: [("cpu", 16, 64, 0, nil)])
        var h = ScenarioHarness(two.topology)
        let id = try h.submit(.job().cpu(10).only("a", "b"))
        h.tick()
        let site = h.state.names(of: h.job(id)!.placement!).datacenter
        let submitted = h.job(id)!.submittedAt
        h.clock.advance(bySeconds: 60)
        let (_, events) = try h.state.setOffline(site, now: h.now)
        #expect(events.map(\.kind) == [.requeued])
        #expect(h.job(id)?.state == .pending)
        h.tick()
        #expect(h.job(id)?.state == .running)
        #expect(h.state.names(of: h.job(id)!.placement!).datacenter != site)
        #expect(h.job(id)?.attempts == 2)
        #expect(h.job(id)?.submittedAt == submitted)
        _ = try h.state.resume(site)
        #expect(h.state.datacenterStates.allSatisfy { $0 == .active })
    }

    @Test func notBeforeHoldsAJobUntilItsWindowOpens() throws {
        var h = ScenarioHarness(hub.topology)
        let id = try h.submit(.job().notBefore(h.now.advanced(bySeconds: 3600)))
        h.tick()
        #expect(h.job(id)?.pendingReason?.description.hasPrefix("window:") == true)
        h.run(seconds: 3600)
        #expect(h.job(id)?.state == .running)
    }

    @Test func batchSubmitIsAllOrNothing() {
        var state = SchedulerState(topology: hub.topology)
        let good = JobBuilder.job().spec
        let bad = JobBuilder.job().cpu(1000).spec
        #expect(throws: SchedulerError.self) { try state.submitBatch([good, bad], now: Instant(microseconds: 0)) }
        #expect(state.jobCount == 0)
        #expect((try? state.submitBatch([good, good], now: Instant(microseconds: 0)))?.count == 2)
    }
}
