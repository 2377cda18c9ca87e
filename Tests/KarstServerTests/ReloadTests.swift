import Foundation
import KarstConfig
import KarstCore
import KarstProtocol
import KarstServer
import KarstTesting
import Synchronization
import Testing

@Suite struct ReloadTests {
    static let config = TestConfigs.toml(datacenters: [("a", 16, 64), ("b", 16, 64)])

    @Test func reloadSwapsTopologyKeepsJobsAndRefusesBadFiles() throws {
        let path = shortTempDir() + "/karstd.toml"
        try Self.config.write(toFile: path, atomically: true, encoding: .utf8)
        let clock = ManualClock()
        let core = EngineCore(configuration: try KarstConfiguration.load(path: path), configPath: path, clock: clock,
                              logger: quietLogger)
        func call(_ method: String, _ params: JSONObject = [:]) throws -> VarlinkReply.Parsed {
            let sink = CollectingSink()
            switch intake(method, params, sink: sink) {
            case .success(let item): core.process([item], now: clock.now)
            case .failure(let local): return try VarlinkReply.parse(local.bytes.dropLast())
            }
            return try VarlinkReply.parse((sink.take().last ?? []).dropLast())
        }
        // Two running jobs, one per site (pinned), and a pending one that only site b could hold.
        _ = try call("io.karst.Scheduler.Submit", jobParams(cpu: 12, duration: 600, extra: ["datacenters": .array([.string("a")])]))
        _ = try call("io.karst.Scheduler.Submit", jobParams(cpu: 12, duration: 600, extra: ["datacenters": .array([.string("b")])]))
        _ = try call("io.karst.Scheduler.Submit", jobParams(cpu: 14, extra: ["datacenters": .array([.string("b")])]))
        #expect(core.state.runningTotal == 2)

        // A broken file: refused, the old configuration stays in force.
        try (Self.config + "\n[scoring]\npacking_mode = \"tight\"\n").write(toFile: path, atomically: true, encoding: .utf8)
        let bad = try call("io.karst.Admin.Reload")
        #expect(bad.error?.name == "io.karst.Admin.InvalidConfig")
        #expect(core.generation == 1)
        // The status line (systemd's STATUS=) keeps saying so, however often it is refreshed.
        core.process([], now: clock.now)
        #expect(core.statusLine.contains("reload FAILED, previous configuration still in force"))

        // Site b shrinks to 8 cores: its running job keeps running outside the pool, the pending
        // job that needs 14 cores there can never run now and is held, nothing is lost.
        try TestConfigs.toml(datacenters: [("a", 16, 64), ("b", 8, 64)]).write(toFile: path, atomically: true, encoding: .utf8)
        let ok = try call("io.karst.Admin.Reload")
        #expect(ok.parameters["generation"] == .number(2))
        #expect(!core.statusLine.contains("FAILED"))
        #expect(core.state.jobCount == 3)
        #expect(core.state.job(JobID(1))?.state == .running)
        #expect(core.state.job(JobID(2))?.state == .running)
        #expect(core.state.job(JobID(2))?.retiredPool == "b/cpu")
        #expect(core.state.job(JobID(3))?.state == .held)
        #expect(core.state.job(JobID(3))?.message?.contains("held by reconfiguration") == true)
        #expect(core.state.checkInvariants() == nil)
        // The job outside the pool still completes on time and frees nothing it did not hold.
        clock.advance(bySeconds: 600)
        core.process([], now: clock.now)
        #expect(core.state.job(JobID(2))?.state == .succeeded)
        #expect(core.state.checkInvariants() == nil)
    }
}
