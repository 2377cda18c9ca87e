import Foundation
import KarstClient
import KarstProtocol
import KarstTesting
import Testing

/// The real binaries: `karstd` with a data centre run by agents, and `karst-agent` running what
/// is placed there as processes. Every command appends to a log the test reads, so a run that
/// happened twice, or not at all, shows.
@Suite(.serialized) struct AgentProcessTests {
    static var built: Bool {
        ["karstd", "karst-agent"].allSatisfy {
            FileManager.default.isExecutableFile(atPath: productsDirectory.appendingPathComponent($0).path)
        }
    }

    final class Hub {
        let dir = shortTempDir()
        var socket: String { dir + "/k.sock" }
        var daemon: Process?
        var agent: Process?

        func startDaemon() throws {
            daemon = try launch("karstd", ["--config", dir + "/karstd.toml", "--socket", socket, "--state-dir", dir + "/state",
                                           "--log-level", "error"])
        }

        init() throws {
            let toml = TestConfigs.toml(datacenters: [("model", 8, 32), ("site", 8, 32)])
                .replacingOccurrences(of: "id = \"site\"\n", with: "id = \"site\"\nexecutor = \"agents\"\n")
            try toml.write(toFile: dir + "/karstd.toml", atomically: true, encoding: .utf8)
            try startDaemon()
        }

        func startAgent() throws {
            agent = try launch("karst-agent", ["--socket", socket, "--datacenter", "site", "--name", "a1",
                                               "--state-dir", dir + "/agent"])
        }

        func launch(_ name: String, _ args: [String]) throws -> Process {
            let p = Process()
            p.executableURL = productsDirectory.appendingPathComponent(name)
            p.arguments = args
            p.standardError = FileHandle(forWritingAtPath: "/dev/null")
            try p.run()
            return p
        }

        func submit(_ c: VarlinkConnection, _ script: String, retries: Int = 0) throws -> String {
            let spec = WireJobSpec(origin: "local", priorityClass: "batch", resources: WireResources(cpu: 1, memoryGiB: 1),
                                   durationSeconds: 5, maxRetries: retries,
                                   command: ["/bin/sh", "-c", script], environment: ["LOG": dir + "/runs.log"])
            return try c.call(SchedulerInterface.Submit.name, SchedulerInterface.Submit.Parameters(job: spec).jsonObject)
                .job()!.string("id")!
        }

        func state(_ c: VarlinkConnection, _ id: String) throws -> String? {
            try c.call(SchedulerInterface.Get.name, ["id": .string(id)]).job()?.string("state")
        }

        func log() -> [String] {
            ((try? String(contentsOfFile: dir + "/runs.log", encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        }

        func stop() {
            for p in [agent, daemon].compactMap({ $0 }) where p.isRunning {
                kill(p.processIdentifier, SIGKILL)
                p.waitUntilExit()
            }
        }
    }

    @Test(.enabled(if: built, "needs built karstd and karst-agent"))
    func commandsRunOnceTheirExitDecidesAndACancelKillsTheGroup() async throws {
        let hub = try Hub()
        defer { hub.stop() }
        #expect(try await eventually { FileManager.default.fileExists(atPath: hub.socket) })
        let c = try VarlinkConnection(path: hub.socket)
        let ok = try hub.submit(c, #"echo "start $KARST_JOB.$KARST_ATTEMPT" >> "$LOG"; echo hello"#)
        #expect(try hub.state(c, ok) == "pending")
        try hub.startAgent()
        #expect(try await eventually(20) { try hub.state(c, ok) == "succeeded" })
        var env = ProcessInfo.processInfo.environment
        env["KARST_SOCKET"] = hub.socket
        let listed = try runProcess(productsDirectory.appendingPathComponent("karstctl").path, ["agents"], environment: env)
        #expect(listed.1.contains("a1") && listed.1.contains("site") && listed.1.contains("live"), "\(listed)")
        // A failing command is retried once, then fails, with its exit status.
        let bad = try hub.submit(c, #"echo "start $KARST_JOB.$KARST_ATTEMPT" >> "$LOG"; exit 3"#, retries: 1)
        #expect(try await eventually(20) { try hub.state(c, bad) == "failed" })
        let failed = try c.call(SchedulerInterface.Get.name, ["id": .string(bad)]).job()
        #expect(failed?.string("message") == "exit status 3")
        #expect(failed?["attempts"] == .number(2))
        // A cancel stops the whole process group (the shell and its child).
        let long = try hub.submit(c, #"echo "start $KARST_JOB.$KARST_ATTEMPT" >> "$LOG"; sleep 300 & echo $! > "$KARST_RUN_DIR/child"; wait"#)
        #expect(try await eventually(20) { hub.log().contains("start \(long).1") })
        let childFile = hub.dir + "/agent/runs/\(long).1/child"
        #expect(try await eventually { FileManager.default.fileExists(atPath: childFile) })
        let child = Int32((try String(contentsOfFile: childFile, encoding: .utf8)).trimmingCharacters(in: .whitespacesAndNewlines))!
        _ = try c.call(SchedulerInterface.Cancel.name, ["id": .string(long)])
        #expect(try await eventually(20) { try hub.state(c, long) == "cancelled" })
        #expect(kill(child, 0) != 0, "the run's child process survived the cancel")
        // Every run happened exactly once: ok once, bad twice (attempts 1 and 2), long once.
        #expect(hub.log().sorted() == ["start \(bad).1", "start \(bad).2", "start \(long).1", "start \(ok).1"].sorted())
        #expect((try? String(contentsOfFile: hub.dir + "/agent/runs/\(ok).1/output", encoding: .utf8)) == "hello\n")
        c.close()
    }

    @Test(.enabled(if: built, "needs built karstd and karst-agent"))
    func anAgentKilledAndRestartedWithinGraceRerunsNothing() async throws {
        let hub = try Hub()
        defer { hub.stop() }
        #expect(try await eventually { FileManager.default.fileExists(atPath: hub.socket) })
        let c = try VarlinkConnection(path: hub.socket)
        try hub.startAgent()
        let id = try hub.submit(c, #"echo "start $KARST_JOB.$KARST_ATTEMPT" >> "$LOG"; sleep 3"#)
        #expect(try await eventually(20) { hub.log().contains("start \(id).1") })
        kill(hub.agent!.processIdentifier, SIGKILL)
        hub.agent!.waitUntilExit()
        try await Task.sleep(for: .seconds(1))
        try hub.startAgent()
        #expect(try await eventually(30) { try hub.state(c, id) == "succeeded" })
        #expect(hub.log() == ["start \(id).1"], "the run was started again")
        c.close()
    }

    @Test(.enabled(if: built, "needs built karstd and karst-agent"))
    func theDaemonKilledWithRunsInFlightLosesAndRerunsNothing() async throws {
        let hub = try Hub()
        defer { hub.stop() }
        #expect(try await eventually { FileManager.default.fileExists(atPath: hub.socket) })
        var c = try VarlinkConnection(path: hub.socket)
        try hub.startAgent()
        let ids = try (0..<3).map { _ in try hub.submit(c, #"echo "start $KARST_JOB.$KARST_ATTEMPT" >> "$LOG"; sleep 2"#) }
        #expect(try await eventually(20) { hub.log().count == 3 })
        c.close()
        kill(hub.daemon!.processIdentifier, SIGKILL)
        hub.daemon!.waitUntilExit()
        try hub.startDaemon()
        #expect(try await eventually(20) { (try? VarlinkConnection(path: hub.socket)) != nil })
        c = try VarlinkConnection(path: hub.socket)
        // The agent reconnects; the runs it kept going end once, and are not started again.
        #expect(try await eventually(30) { try ids.allSatisfy { try hub.state(c, $0) == "succeeded" } })
        #expect(hub.log().sorted() == ids.map { "start \($0).1" }.sorted(), "\(hub.log())")
        c.close()
    }
}
