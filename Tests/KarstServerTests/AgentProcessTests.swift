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
        var agents: [String: Process] = [:]
        var agent: Process? { agents["a1"] }
        var daemonLogLevel = "error"

        func startDaemon() throws {
            daemon = try launch("karstd", ["--config", dir + "/karstd.toml", "--socket", socket, "--state-dir", dir + "/state",
                                           "--log-level", daemonLogLevel])
        }

        /// Short agent timeouts (reports every 0.5 s, fenced after 4 s, lost after 6 s), with room
        /// for a loaded machine: an agent starved past its fence would kill its own runs.
        static let shortTimeouts = """
            agent_report_interval_seconds = 0.5
            agent_suspect_seconds = 1.5
            agent_fence_seconds = 4
            agent_lost_seconds = 6
            """

        /// A model data centre and an agents' one (`site`, 8 cores), classes `critical` (may
        /// preempt) and `batch` (preemptible); `settings` is added as the `[settings]` table,
        /// `tables` as they are; the daemon logs from `daemonLogLevel` up (to `karstd.log`).
        init(settings: String = "", tables: String = "", daemonLogLevel: String = "error") throws {
            self.daemonLogLevel = daemonLogLevel
            let toml = """
                [[classes]]
                id = "critical"
                base_priority = 100
                default_latency_ms = 10
                can_preempt = true

                """ + TestConfigs.toml(datacenters: [("model", 8, 32), ("site", 8, 32)])
                .replacingOccurrences(of: "id = \"site\"\n", with: "id = \"site\"\nexecutor = \"agents\"\n")
                .replacingOccurrences(of: "base_priority = 1\n", with: "base_priority = 1\npreemptible = true\n")
                + (settings.isEmpty ? "" : "\n[settings]\n" + settings + "\n") + (tables.isEmpty ? "" : "\n" + tables + "\n")
            try toml.write(toFile: dir + "/karstd.toml", atomically: true, encoding: .utf8)
            try startDaemon()
        }

        func startAgent(_ name: String = "a1", _ extra: [String] = [], environment: [String: String]? = nil) throws {
            agents[name] = try launch("karst-agent", ["--socket", socket, "--datacenter", "site", "--name", name,
                                                      "--state-dir", dir + "/agent-" + name, "--log-target", "stderr"] + extra,
                                      environment: environment)
        }

        func killAgent(_ name: String = "a1") {
            guard let p = agents[name] else { return }
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
        }

        func launch(_ name: String, _ args: [String], environment: [String: String]? = nil) throws -> Process {
            let p = Process()
            p.executableURL = productsDirectory.appendingPathComponent(name)
            p.arguments = args
            if let environment { p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
            // O_APPEND: several agents write to one log without overwriting each other's lines.
            let fd = open(dir + "/\(name).log", O_WRONLY | O_APPEND | O_CREAT, 0o644)
            p.standardError = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
            try p.run()
            return p
        }

        /// Submits `body` wrapped so the run log gets `start JOB.ATTEMPT T` first and `end
        /// JOB.ATTEMPT T` last (also when stopped by SIGTERM), and `overlap …` if an earlier
        /// attempt of the job still runs when this one starts (a zombie does not: it is dead,
        /// waiting to be reaped). The trap comes before `log start`: a test that sees the start
        /// may preempt the run at once, and a SIGTERM before the trap would end it unlogged
        /// (one in the few instructions before `log start` logs an end without a start, which
        /// `logProblems` passes over; no test stops a run before it has seen its start).
        func submit(_ c: VarlinkConnection, _ body: String, retries: Int = 0, cls: String = "batch", cpu: Double = 1,
                    memoryGiB: Double = 1) throws -> String {
            let script = #"""
                run="$KARST_JOB.$KARST_ATTEMPT"; log() { echo "$1 $run $(date +%s.%N)" >> "$LOG"; }
                trap 'log end; exit 143' TERM
                log start
                for p in $(cat "$LOG.$KARST_JOB.pids" 2>/dev/null); do
                  st=$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | cut -c1)
                  [ -n "$st" ] && [ "$st" != Z ] && echo "overlap $run with pid $p ($st)" >> "$LOG"
                done
                echo $$ >> "$LOG.$KARST_JOB.pids"
                """# + "\n" + body + "\n" + #"s=$?; log end; exit $s"#
            let spec = WireJobSpec(origin: "local", priorityClass: cls, resources: WireResources(cpu: cpu, memoryGiB: memoryGiB),
                                   durationSeconds: 5, maxRetries: retries,
                                   command: ["/bin/sh", "-c", script], environment: ["LOG": dir + "/runs.log"])
            return try c.call(SchedulerInterface.Submit.name, SchedulerInterface.Submit.Parameters(job: spec).jsonObject)
                .job()!.string("id")!
        }

        func state(_ c: VarlinkConnection, _ id: String) throws -> String? {
            try c.call(SchedulerInterface.Get.name, ["id": .string(id)]).job()?.string("state")
        }

        func job(_ c: VarlinkConnection, _ id: String) throws -> JSONObject? {
            try c.call(SchedulerInterface.Get.name, ["id": .string(id)]).job()
        }

        /// The run log's lines, without their times.
        func log() -> [String] {
            entries().map { $0.time == nil ? $0.line : "\($0.kind) \($0.run)" }
        }

        /// The run log: what happened to which run (JOB.ATTEMPT) when.
        func entries() -> [(kind: String, run: String, time: Double?, line: String)] {
            ((try? String(contentsOfFile: dir + "/runs.log", encoding: .utf8)) ?? "").split(separator: "\n").map { line in
                let f = line.split(separator: " ")
                return (String(f[0]), f.count > 1 ? String(f[1]) : "", f.count == 3 ? Double(f[2]) : nil, String(line))
            }
        }

        /// What the run log proves about all of it: no `overlap` line (an earlier attempt's shell
        /// alive when a later one started), every start has at most one end, and no attempt
        /// started before the one before it ended.
        func logProblems() -> [String] {
            var problems = entries().filter { $0.kind == "overlap" }.map(\.line)
            var spans: [String: (start: Double, end: Double?)] = [:]
            for e in entries() where e.time != nil {
                if e.kind == "start" {
                    if spans[e.run] != nil { problems.append("\(e.run) started twice") }
                    spans[e.run] = (e.time!, nil)
                } else if e.kind == "end" {
                    if spans[e.run]?.end != nil { problems.append("\(e.run) ended twice") }
                    spans[e.run]?.end = e.time
                }
            }
            let byJob = Dictionary(grouping: spans, by: { String($0.key.split(separator: ".")[0]) })
            for (job, runs) in byJob {
                let ordered = runs.sorted { $0.value.start < $1.value.start }
                // A run killed by SIGKILL logs no end: the `overlap` lines judge those.
                for (a, b) in zip(ordered, ordered.dropFirst()) where a.value.end.map({ $0 > b.value.start }) == true {
                    problems.append("\(job): \(a.key) (ended \(a.value.end.map { "\($0)" } ?? "never")) overlaps \(b.key) (started \(b.value.start))")
                }
            }
            return problems
        }

        /// The run log and the agents' logs, for a failure's message.
        func diagnostics() -> String {
            let runs = (try? String(contentsOfFile: dir + "/runs.log", encoding: .utf8)) ?? "(no run log)"
            let agents = (try? String(contentsOfFile: dir + "/karst-agent.log", encoding: .utf8)) ?? "(no agent log)"
            return "runs:\n" + runs + "agents:\n" + agents.split(separator: "\n").filter { !$0.contains("cannot connect") }
                .suffix(60).joined(separator: "\n")
        }

        func stop() {
            for p in Array(agents.values) + [daemon].compactMap({ $0 }) where p.isRunning {
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
        let ok = try hub.submit(c, "echo hello")
        #expect(try hub.state(c, ok) == "pending")
        try hub.startAgent()
        #expect(try await eventually(20) { try hub.state(c, ok) == "succeeded" })
        var env = ProcessInfo.processInfo.environment
        env["KARST_SOCKET"] = hub.socket
        let listed = try runProcess(productsDirectory.appendingPathComponent("karstctl").path, ["agents"], environment: env)
        #expect(listed.1.contains("a1") && listed.1.contains("site") && listed.1.contains("live"), "\(listed)")
        // Where the output is and what held the run stay with the job after it ended.
        let done = try hub.job(c, ok)
        let output = hub.dir + "/agent-a1/runs/\(ok).1/output"
        #expect(done?.string("output") == output)
        #expect(done?.string("agent") == "a1")
        #expect(done?.string("limits")?.isEmpty == false, "\(String(describing: done))")
        let shown = try runProcess(productsDirectory.appendingPathComponent("karstctl").path, ["get", ok], environment: env)
        #expect(shown.1.contains("Output:") && shown.1.contains(output) && shown.1.contains("Limits:"), "\(shown)")
        // A failing command is retried once, then fails, with its exit status.
        let bad = try hub.submit(c, "exit 3", retries: 1)
        #expect(try await eventually(20) { try hub.state(c, bad) == "failed" })
        let failed = try hub.job(c, bad)
        #expect(failed?.string("message") == "exit status 3")
        #expect(failed?["attempts"] == .number(2))
        // A cancel stops the whole process group (the shell and its child).
        let long = try hub.submit(c, #"sleep 300 & echo $! > "$KARST_RUN_DIR/child"; wait"#)
        #expect(try await eventually(20) { hub.log().contains("start \(long).1") })
        let childFile = hub.dir + "/agent-a1/runs/\(long).1/child"
        #expect(try await eventually { FileManager.default.fileExists(atPath: childFile) })
        let child = Int32((try String(contentsOfFile: childFile, encoding: .utf8)).trimmingCharacters(in: .whitespacesAndNewlines))!
        _ = try c.call(SchedulerInterface.Cancel.name, ["id": .string(long)])
        #expect(try await eventually(20) { try hub.state(c, long) == "cancelled" })
        #expect(kill(child, 0) != 0, "the run's child process survived the cancel")
        // Every run happened exactly once: ok once, bad twice (attempts 1 and 2), long once.
        #expect(hub.log().filter { $0.hasPrefix("start") }.sorted()
            == ["start \(bad).1", "start \(bad).2", "start \(long).1", "start \(ok).1"].sorted())
        #expect(hub.logProblems().isEmpty, "\(hub.logProblems())")
        #expect((try? String(contentsOfFile: output, encoding: .utf8)) == "hello\n")
        c.close()
    }

    @Test(.enabled(if: built, "needs built karstd and karst-agent"))
    func aRunBeyondItsMemoryFailsAndSaysWhatHeldIt() async throws {
        let hub = try Hub()
        defer { hub.stop() }
        #expect(try await eventually { FileManager.default.fileExists(atPath: hub.socket) })
        let c = try VarlinkConnection(path: hub.socket)
        try hub.startAgent()
        // 64 MiB asked, 512 MiB touched: the data limit (or the cgroup's memory.max) stops it.
        let greedy = try hub.submit(c, #"python3 -c 'b = bytearray(512 << 20); print(len(b))'"#, memoryGiB: 0.0625)
        let modest = try hub.submit(c, #"python3 -c 'b = bytearray(16 << 20); print(len(b))'"#, memoryGiB: 0.0625)
        #expect(try await eventually(30) { try hub.state(c, greedy) == "failed" && hub.state(c, modest) == "succeeded" })
        let limits = try hub.job(c, greedy)?.string("limits") ?? ""
        #expect(limits.hasPrefix("rlimits: RLIMIT_DATA 64 MiB") || limits.contains("memory.max 67108864"), "\(limits)")
        if limits.hasPrefix("rlimits") {
            // Said, not hidden: cores are not enforced without a cgroup.
            #expect(limits.contains("cpu not enforced"))
            let output = (try? String(contentsOfFile: hub.dir + "/agent-a1/runs/\(greedy).1/output", encoding: .utf8)) ?? ""
            #expect(output.contains("MemoryError"), "\(output)")
        }
        c.close()
    }

    @Test(.enabled(if: built, "needs built karstd and karst-agent"))
    func anAgentKilledAndRestartedWithinGraceRerunsNothing() async throws {
        let hub = try Hub()
        defer { hub.stop() }
        #expect(try await eventually { FileManager.default.fileExists(atPath: hub.socket) })
        let c = try VarlinkConnection(path: hub.socket)
        try hub.startAgent()
        let id = try hub.submit(c, "sleep 3")
        #expect(try await eventually(20) { hub.log().contains("start \(id).1") })
        hub.killAgent()
        try await Task.sleep(for: .seconds(1))
        try hub.startAgent()
        #expect(try await eventually(30) { try hub.state(c, id) == "succeeded" })
        #expect(hub.log() == ["start \(id).1", "end \(id).1"], "the run was started again")
        #expect(hub.logProblems().isEmpty, "\(hub.logProblems())")
        c.close()
    }

    @Test(.enabled(if: built, "needs built karstd and karst-agent"))
    func anAgentThatCrashedBeforeSavingItsStateFindsItsRunRatherThanStartingItTwice() async throws {
        let hub = try Hub()
        defer { hub.stop() }
        #expect(try await eventually { FileManager.default.fileExists(atPath: hub.socket) })
        let c = try VarlinkConnection(path: hub.socket)
        try hub.startAgent()
        let id = try hub.submit(c, "sleep 6")
        #expect(try await eventually(20) { hub.log().contains("start \(id).1") })
        let pidFile = hub.dir + "/agent-a1/runs/\(id).1/pid"
        let pid = try String(contentsOfFile: pidFile, encoding: .utf8)
        hub.killAgent()
        // As if it died between starting the run and saving that it did.
        try "[]".write(toFile: hub.dir + "/agent-a1/runs.json", atomically: true, encoding: .utf8)
        try hub.startAgent()
        #expect(try await eventually(30) { try hub.state(c, id) == "succeeded" }, "\(hub.diagnostics())")
        // No second shell was started for the run: the one that wrote its pid is the only one.
        #expect(try String(contentsOfFile: pidFile, encoding: .utf8) == pid, "\(hub.diagnostics())")
        #expect(hub.log() == ["start \(id).1", "end \(id).1"], "\(hub.diagnostics())")
        c.close()
    }

    @Test(.enabled(if: built, "needs built karstd and karst-agent"))
    func anAgentKilledForGoodIsFencedThenItsRunsRunOnAnother() async throws {
        let hub = try Hub(settings: Hub.shortTimeouts)
        defer { hub.stop() }
        #expect(try await eventually { FileManager.default.fileExists(atPath: hub.socket) })
        let c = try VarlinkConnection(path: hub.socket)
        try hub.startAgent("a1")
        try hub.startAgent("a2")
        #expect(try await eventually(20) {
            try c.call(AdminInterface.Agents.name)["agents"]?.arrayValue?.count == 2
        })
        let ids = try (0..<4).map { _ in try hub.submit(c, "sleep 300") }
        #expect(try await eventually(20) { hub.log().filter { $0.hasPrefix("start") }.count == 4 })
        let onA1 = try ids.filter { try hub.job(c, $0)?.string("agent") == "a1" }
        #expect(!onA1.isEmpty, "the daemon spreads runs over its agents")
        hub.killAgent("a1")
        // a1's fence keeper kills its runs after 4 s; the daemon requeues them after 6 s, to a2.
        #expect(try await eventually(30) {
            try onA1.allSatisfy { try hub.job(c, $0)?.string("agent") == "a2" && hub.log().contains("start \($0).2") }
        }, "\(hub.diagnostics())")
        // Killed by SIGKILL, the first attempts logged no end: each second attempt's start found
        // no process of the first alive (no `overlap` line).
        #expect(hub.logProblems().isEmpty, "\(hub.logProblems())\n\(hub.diagnostics())")
        for id in ids { _ = try c.call(SchedulerInterface.Cancel.name, ["id": .string(id)]) }
        #expect(try await eventually(30) { try ids.allSatisfy { try hub.state(c, $0) == "cancelled" } }, "\(hub.diagnostics())")
        c.close()
    }

    @Test(.enabled(if: built, "needs built karstd and karst-agent"))
    func anAgentCutOffFromTheDaemonFencesItsRunsWhichAreRequeuedNotFailed() async throws {
        let hub = try Hub(settings: """
            agent_report_interval_seconds = 0.5
            agent_suspect_seconds = 1.5
            agent_fence_seconds = 3
            agent_lost_seconds = 8
            """)
        defer {
            kill(hub.daemon!.processIdentifier, SIGCONT)
            hub.stop()
        }
        #expect(try await eventually { FileManager.default.fileExists(atPath: hub.socket) })
        var c = try VarlinkConnection(path: hub.socket)
        try hub.startAgent()
        let id = try hub.submit(c, "sleep 300")
        #expect(try await eventually(20) { hub.log().contains("start \(id).1") })
        c.close()
        // The daemon stops answering for 4.5 s: past the agent's fence (3 s), short of lost (8 s).
        kill(hub.daemon!.processIdentifier, SIGSTOP)
        #expect(try await eventually(10) { Self.runIsGone(hub, "\(id).1") }, "\(hub.diagnostics())")
        try await Task.sleep(for: .seconds(4.5 - 3))
        kill(hub.daemon!.processIdentifier, SIGCONT)
        c = try VarlinkConnection(path: hub.socket)
        // The agent reports the run fenced: the job is requeued as attempt 2, not failed (it has
        // no retries), and runs again.
        #expect(try await eventually(20) { hub.log().contains("start \(id).2") }, "\(hub.diagnostics())")
        let job = try hub.job(c, id)
        #expect(job?.string("state") == "running")
        #expect(job?.string("message")?.contains("fence") == true, "\(String(describing: job))")
        #expect(hub.logProblems().isEmpty, "\(hub.logProblems())")
        _ = try c.call(SchedulerInterface.Cancel.name, ["id": .string(id)])
        #expect(try await eventually(20) { try hub.state(c, id) == "cancelled" })
        c.close()
    }

    /// Whether run `run`'s command (its shell, whose pid it wrote down) is gone.
    static func runIsGone(_ hub: Hub, _ run: String) -> Bool {
        let job = String(run.split(separator: ".")[0])
        let pids = ((try? String(contentsOfFile: hub.dir + "/runs.log.\(job).pids", encoding: .utf8)) ?? "")
            .split(separator: "\n").compactMap { Int32($0) }
        return !pids.isEmpty && pids.allSatisfy { pid in
            let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
            return stat.isEmpty || stat.split(separator: ")").last?.dropFirst().first == "Z"
        }
    }

    @Test(.enabled(if: built, "needs built karstd and karst-agent"))
    func aPreemptedRunStopsBeforeItsPreemptorStarts() async throws {
        let hub = try Hub()
        defer { hub.stop() }
        #expect(try await eventually { FileManager.default.fileExists(atPath: hub.socket) })
        let c = try VarlinkConnection(path: hub.socket)
        try hub.startAgent()
        let victim = try hub.submit(c, "sleep 300", retries: 2, cpu: 8)
        #expect(try await eventually(20) { hub.log().contains("start \(victim).1") })
        let preemptor = try hub.submit(c, "sleep 1", cls: "critical", cpu: 8)
        #expect(try await eventually(30) { try hub.state(c, preemptor) == "succeeded" })
        let victimJob = try hub.job(c, victim)
        #expect(victimJob?["preemptions"] == .number(1))
        #expect(victimJob?.string("message")?.contains("preempted by \(preemptor)") == true)
        // The victim's run ended (SIGTERM, its trap logged it) before the preemptor's began.
        let end = hub.entries().first { $0.run == "\(victim).1" && $0.kind == "end" }?.time
        let start = hub.entries().first { $0.run == "\(preemptor).1" && $0.kind == "start" }?.time
        #expect(end != nil && start != nil && end! <= start!, "victim ended \(String(describing: end)), preemptor started \(String(describing: start))")
        // Requeued, it runs again as attempt 2 once the preemptor is done.
        #expect(try await eventually(30) { hub.log().contains("start \(victim).2") })
        #expect(hub.logProblems().isEmpty, "\(hub.logProblems())")
        _ = try c.call(SchedulerInterface.Cancel.name, ["id": .string(victim)])
        #expect(try await eventually(30) { try hub.state(c, victim) == "cancelled" })
        c.close()
    }

    @Test(.enabled(if: built, "needs built karstd and karst-agent"))
    func theDaemonKilledWithRunsInFlightLosesAndRerunsNothing() async throws {
        let hub = try Hub()
        defer { hub.stop() }
        #expect(try await eventually { FileManager.default.fileExists(atPath: hub.socket) })
        var c = try VarlinkConnection(path: hub.socket)
        try hub.startAgent()
        let ids = try (0..<3).map { _ in try hub.submit(c, "sleep 2") }
        #expect(try await eventually(20) { hub.log().count == 3 })
        c.close()
        kill(hub.daemon!.processIdentifier, SIGKILL)
        hub.daemon!.waitUntilExit()
        try hub.startDaemon()
        #expect(try await eventually(20) { (try? VarlinkConnection(path: hub.socket)) != nil })
        c = try VarlinkConnection(path: hub.socket)
        // The agent reconnects; the runs it kept going end once, and are not started again.
        #expect(try await eventually(30) { try ids.allSatisfy { try hub.state(c, $0) == "succeeded" } })
        #expect(hub.log().filter { $0.hasPrefix("start") }.sorted() == ids.map { "start \($0).1" }.sorted(), "\(hub.log())")
        #expect(hub.logProblems().isEmpty, "\(hub.logProblems())")
        // The restarted daemon learnt where each run's output is from the agent's new reports.
        #expect(try ids.allSatisfy { try hub.job(c, $0)?.string("output")?.hasSuffix("/\($0).1/output") == true })
        c.close()
    }
}
