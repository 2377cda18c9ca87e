import Foundation
import KarstClient
import KarstProtocol
import KarstTesting
import Testing

/// A real single-node Slurm (`SlurmCluster`: Debian's slurm-wlm and munge, installed by the
/// Makefile; munged, slurmctld and slurmd started by the test as plain processes on 127.0.0.1
/// with their own configuration and state directory, and stopped by pid). karst-agent --backend slurm runs what
/// karstd places in its data centre as Slurm jobs.
@Suite(.serialized) struct SlurmAgentTests {
    static var possible: Bool { AgentProcessTests.built && SlurmCluster.possible }

    /// A cluster, a daemon with a data centre run by agents, and its agent on the cluster.
    static func start(agent arguments: [String]) async throws -> (SlurmCluster, AgentProcessTests.Hub, VarlinkConnection) {
        let cluster = try SlurmCluster()
        #expect(try await eventually(30) { cluster.ready() }, "\(cluster.logs())")
        let hub = try AgentProcessTests.Hub()
        #expect(try await eventually { FileManager.default.fileExists(atPath: hub.socket) })
        let c = try VarlinkConnection(path: hub.socket)
        try hub.startAgent("a1", arguments, environment: cluster.environment)
        return (cluster, hub, c)
    }

    @Test(.enabled(if: possible, "needs root, karstd, karst-agent and Slurm (make deps installs slurm-wlm and munge)"))
    func commandsRunAsSlurmJobsTheirExitDecidesAndACancelIsAnScancel() async throws {
        let (cluster, hub, c) = try await Self.start(agent: ["--backend", "slurm", "--partition", "cpu=batch"])
        defer {
            hub.stop()
            cluster.stop()
        }
        let ok = try hub.submit(c, "echo hello")
        let bad = try hub.submit(c, "exit 3")
        #expect(try await eventually(60) { try hub.state(c, ok) == "succeeded" && hub.state(c, bad) == "failed" },
                "\(hub.diagnostics())\n\(cluster.logs())")
        let done = try hub.job(c, ok)
        #expect(done?.string("siteID")?.hasPrefix("slurm job ") == true, "\(String(describing: done))")
        #expect(done?.string("limits")?.contains("--partition batch") == true)
        #expect((try? String(contentsOfFile: try #require(done?.string("output")), encoding: .utf8)) == "hello\n")
        #expect(try hub.job(c, bad)?.string("message") == "exit status 3")
        // One Slurm job per run, named after it, and never requeued by Slurm.
        #expect(try cluster.ids(named: "karst-\(ok)-1").count == 1)
        let shown = try cluster.run("scontrol", ["--oneliner", "show", "job", try cluster.ids(named: "karst-\(ok)-1")[0]])
        #expect(shown.contains("Requeue=0"), "\(shown)")
        // A cancel is an scancel: Slurm ends the job, then Karst cancels its own.
        let long = try hub.submit(c, "sleep 300")
        #expect(try await eventually(60) { hub.log().contains("start \(long).1") }, "\(hub.diagnostics())")
        _ = try c.call(SchedulerInterface.Cancel.name, ["id": .string(long)])
        #expect(try await eventually(60) { try hub.state(c, long) == "cancelled" }, "\(hub.diagnostics())")
        let state = try cluster.run("squeue", ["--states=all", "--noheader", "--name", "karst-\(long)-1", "--format", "%T"])
        #expect(state.contains("CANCELLED"), "\(state)")
        #expect(hub.logProblems().isEmpty, "\(hub.logProblems())")
        c.close()
    }

    /// slurmctld stopped (SIGSTOP) for longer than the agent's fence: squeue would wait for it,
    /// ~10 s a try; the agent gives each Slurm command 2 s, leaves the controller alone a while,
    /// and keeps heartbeating. The run is neither fenced nor requeued, and ends as Slurm says.
    @Test(.enabled(if: possible, "needs root, karstd, karst-agent and Slurm (make deps installs slurm-wlm and munge)"))
    func aControllerThatStopsAnsweringDoesNotMakeTheAgentFenceItsRuns() async throws {
        let (cluster, hub, c) = try await Self.start(agent: ["--backend", "slurm"])
        defer {
            hub.stop()
            cluster.stop()
        }
        let id = try hub.submit(c, "sleep 20")
        #expect(try await eventually(60) { try hub.state(c, id) == "running" && hub.log().contains("start \(id).1") },
                "\(hub.diagnostics())")
        let ctld = try #require(Int32((try? String(contentsOfFile: cluster.dir + "/ctld.pid", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? ""))
        kill(ctld, SIGSTOP)
        try await Task.sleep(for: .seconds(14))  // past the agent's 10 s fence
        #expect(try hub.state(c, id) == "running", "\(hub.diagnostics())")
        kill(ctld, SIGCONT)
        #expect(try await eventually(90) { try hub.state(c, id) == "succeeded" }, "\(hub.diagnostics())\n\(cluster.logs())")
        #expect(try hub.job(c, id)?["attempts"] == .number(1), "requeued: \(hub.diagnostics())")
        #expect(hub.log() == ["start \(id).1", "end \(id).1"], "\(hub.diagnostics())")
        let agentLog = (try? String(contentsOfFile: hub.dir + "/karst-agent.log", encoding: .utf8)) ?? ""
        #expect(!agentLog.contains("killing every run (fence)") && !agentLog.contains("fenced"), "\(hub.diagnostics())")
        c.close()
    }

    @Test(.enabled(if: possible, "needs root, karstd, karst-agent and Slurm (make deps installs slurm-wlm and munge)"))
    func anAgentRestartFindsItsSlurmJobsByNameWithoutASecondSbatch() async throws {
        let (cluster, hub, c) = try await Self.start(agent: ["--backend", "slurm"])
        defer {
            hub.stop()
            cluster.stop()
        }
        let id = try hub.submit(c, "sleep 4")
        #expect(try await eventually(60) { hub.log().contains("start \(id).1") }, "\(hub.diagnostics())")
        hub.killAgent()
        // As if it died before saving that it had submitted the job: only the name can tell.
        try "[]".write(toFile: hub.dir + "/agent-a1/runs.json", atomically: true, encoding: .utf8)
        try? FileManager.default.removeItem(atPath: hub.dir + "/agent-a1/runs/\(id).1/slurm-id")
        try hub.startAgent("a1", ["--backend", "slurm"], environment: cluster.environment)
        #expect(try await eventually(60) { try hub.state(c, id) == "succeeded" }, "\(hub.diagnostics())\n\(cluster.logs())")
        #expect(try cluster.ids(named: "karst-\(id)-1").count == 1, "a second sbatch for the same run")
        #expect(hub.log() == ["start \(id).1", "end \(id).1"], "\(hub.diagnostics())")
        c.close()
    }

    @Test(.enabled(if: possible, "needs root, karstd, karst-agent and Slurm (make deps installs slurm-wlm and munge)"))
    func anAgentKilledForGoodHasItsSlurmJobsCancelledByItsFenceKeeper() async throws {
        let cluster = try SlurmCluster()
        defer { cluster.stop() }
        #expect(try await eventually(30) { cluster.ready() }, "\(cluster.logs())")
        let hub = try AgentProcessTests.Hub(settings: AgentProcessTests.Hub.shortTimeouts)
        defer { hub.stop() }
        #expect(try await eventually { FileManager.default.fileExists(atPath: hub.socket) })
        let c = try VarlinkConnection(path: hub.socket)
        try hub.startAgent("a1", ["--backend", "slurm"], environment: cluster.environment)
        let id = try hub.submit(c, "sleep 300")
        #expect(try await eventually(60) { hub.log().contains("start \(id).1") }, "\(hub.diagnostics())")
        hub.killAgent()
        // Its keeper cancels the Slurm job at the fence (4 s); the daemon requeues the job at 6 s.
        #expect(try await eventually(30) {
            try cluster.run("squeue", ["--states=all", "--noheader", "--name", "karst-\(id)-1", "--format", "%T"]).contains("CANCELLED")
        }, "\(hub.diagnostics())")
        #expect(try await eventually(30) { try hub.state(c, id) == "pending" }, "\(hub.diagnostics())")
        #expect(try hub.job(c, id)?["attempts"] == .number(1))
        _ = try c.call(SchedulerInterface.Cancel.name, ["id": .string(id)])
        c.close()
    }
}
