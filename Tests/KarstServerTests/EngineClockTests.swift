import KarstConfig
import KarstCore
import KarstProtocol
@testable import KarstServer
import KarstTesting
import ServiceLifecycle
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The engine takes its clock from outside: a manual clock drives its pruning and pacing; and
/// work it hands off its thread is a service that shutdown waits for.
@Suite struct EngineClockTests {
    @Test func aManualClockDrivesPruning() async throws {
        var config = testConfiguration()
        config.state.retentionDays = 0.001  // 86.4 s
        let t = DirectTransport(config)
        let id = try #require(try await t.ok("io.karst.Scheduler.Submit", jobParams(duration: 60)).job()?.string("id"))
        t.clock.advance(bySeconds: 120)
        t.core.process([], now: t.clock.now)
        #expect(try await t.ok("io.karst.Scheduler.Get", ["id": .string(id)]).job()?.string("state") == "succeeded")
        // Past its retention, but under an hour after the last prune (the first batch's): kept.
        t.clock.advance(bySeconds: 1000)
        t.core.process([], now: t.clock.now)
        #expect(t.core.state.job(JobID(id)!) != nil)
        // An hour after that prune on the same clock, it goes.
        t.clock.advance(bySeconds: 3600 - 1120)
        t.core.process([], now: t.clock.now)
        #expect(t.core.state.job(JobID(id)!) == nil)
    }

    @Test func shutdownWaitsForBackgroundWork() async throws {
        let background = BackgroundWork()
        let done = Mutex(false)
        let group = ServiceGroup(configuration: .init(services: [.init(service: background)], logger: quietLogger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            #expect(background.enqueue {
                usleep(300_000)
                done.withLock { $0 = true }
            })
            try await Task.sleep(for: .milliseconds(50))
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        #expect(done.withLock { $0 })
        // Once stopped it refuses work: its caller runs it in place.
        #expect(!background.enqueue {})
    }
}
