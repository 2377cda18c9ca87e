import Foundation
import KarstClient
import KarstProtocol
import KarstTesting
import Testing

/// A real single-node Slurm (Debian's slurm-wlm and munge, installed by the Makefile): munged,
/// slurmctld and slurmd started by the test as plain processes on 127.0.0.1 with their own
/// configuration and state directory, and stopped by pid. karst-agent --backend slurm runs what
/// karstd places in its data centre as Slurm jobs.
@Suite(.serialized) struct SlurmAgentTests {
    static var possible: Bool {
        getuid() == 0 && AgentProcessTests.built
            && ["/usr/sbin/slurmctld", "/usr/sbin/slurmd", "/usr/sbin/munged", "/usr/bin/sbatch"].allSatisfy {
                FileManager.default.isExecutableFile(atPath: $0)
            }
    }

    /// munged, slurmctld and slurmd of one test.
    final class Cluster {
        let dir = shortTempDir()
        var conf: String { dir + "/slurm.conf" }
        var environment: [String: String] { ["SLURM_CONF": conf] }

        init() throws {
            for sub in ["ctld", "d"] { try FileManager.default.createDirectory(atPath: dir + "/" + sub, withIntermediateDirectories: true) }
            chmod(dir, 0o700)
            var key = [UInt8](repeating: 0, count: 1024)
            for i in key.indices { key[i] = UInt8.random(in: 0...255) }
            _ = FileManager.default.createFile(atPath: dir + "/munge.key", contents: Data(key), attributes: [.posixPermissions: 0o400])
            // Ports of its own, so a leftover cluster of another run cannot answer.
            let port = Int.random(in: 20_000...29_000)
            try """
                ClusterName=karsttest
                SlurmctldHost=localhost(127.0.0.1)
                SlurmctldPort=\(port)
                SlurmdPort=\(port + 1)
                AuthType=auth/munge
                AuthInfo=socket=\(dir)/munge.sock
                CredType=cred/munge
                SlurmUser=root
                SlurmdUser=root
                StateSaveLocation=\(dir)/ctld
                SlurmdSpoolDir=\(dir)/d
                SlurmctldPidFile=\(dir)/ctld.pid
                SlurmdPidFile=\(dir)/d.pid
                SlurmctldLogFile=\(dir)/ctld.log
                SlurmdLogFile=\(dir)/d.log
                ProctrackType=proctrack/linuxproc
                TaskPlugin=task/none
                JobAcctGatherType=jobacct_gather/none
                AccountingStorageType=accounting_storage/none
                JobCompType=jobcomp/none
                SchedulerType=sched/builtin
                SelectType=select/cons_tres
                SelectTypeParameters=CR_Core_Memory
                MpiDefault=none
                ReturnToService=2
                KillWait=2
                NodeName=localhost NodeAddr=127.0.0.1 CPUs=2 RealMemory=4096 State=UNKNOWN
                PartitionName=batch Nodes=localhost Default=YES MaxTime=INFINITE State=UP

                """.write(toFile: conf, atomically: true, encoding: .utf8)
            // Each daemonizes and writes its pid file: the test stops them by those pids (their
            // being nobody's child here keeps them out of Foundation's process bookkeeping).
            try start("/usr/sbin/munged", ["--force", "--key-file=\(dir)/munge.key", "--socket=\(dir)/munge.sock",
                                           "--pid-file=\(dir)/munged.pid", "--log-file=\(dir)/munged.log",
                                           "--seed-file=\(dir)/munge.seed"])
            try start("/usr/sbin/slurmctld", ["-f", conf])
            try start("/usr/sbin/slurmd", ["-f", conf, "-N", "localhost"])
        }

        /// Runs a daemon's launcher (which forks the daemon and exits) with posix_spawn and waits
        /// for it by pid: Foundation's Process lost track of such launchers here.
        private func start(_ path: String, _ args: [String]) throws {
            let env = ProcessInfo.processInfo.environment.merging(environment) { $1 }.map { "\($0.key)=\($0.value)" }
            let argv = ([path] + args).map { strdup($0) } + [nil]
            let envp = env.map { strdup($0) } + [nil]
            defer { for p in argv + envp { free(p) } }
            var actions = posix_spawn_file_actions_t()
            posix_spawn_file_actions_init(&actions)
            defer { posix_spawn_file_actions_destroy(&actions) }
            for fd: Int32 in [0, 1, 2] {
                posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0)
            }
            var pid: pid_t = 0
            let rc = posix_spawn(&pid, path, &actions, nil, argv, envp)
            guard rc == 0 else { throw ClusterFailure(what: "\(path): \(String(cString: strerror(rc)))") }
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            guard status == 0 else { throw ClusterFailure(what: "\(path) exited with wait status \(status)") }
        }

        struct ClusterFailure: Error { var what: String }

        /// The daemons' pids, from their pid files.
        var pids: [Int32] {
            ["d.pid", "ctld.pid", "munged.pid"].compactMap {
                (try? String(contentsOfFile: dir + "/" + $0, encoding: .utf8)).flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            }
        }

        /// Runs a Slurm command against this cluster.
        func run(_ tool: String, _ args: [String]) throws -> String {
            try runProcess("/usr/bin/" + tool, args, environment: ProcessInfo.processInfo.environment.merging(environment) { $1 }).1
        }

        /// Whether the node takes jobs.
        func ready() -> Bool { ((try? run("sinfo", ["--noheader", "--format", "%T"])) ?? "").contains("idle") }

        /// The ids Slurm knows for a job name.
        func ids(named name: String) throws -> [String] {
            try run("squeue", ["--states=all", "--noheader", "--name", name, "--format", "%i"])
                .split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }

        /// Stops them by pid (SIGKILL: a test runner may hand them a signal mask that delays a
        /// polite stop), then whatever they started that is left (slurmctld's script helper, a
        /// job's processes: everything naming this cluster's directory).
        func stop() {
            for pid in pids where pid > 1 { kill(pid, SIGKILL) }
            _ = try? runProcess("/usr/bin/pkill", ["-KILL", "-f", dir])
        }

        func logs() -> String {
            ["ctld.log", "d.log"].map { ((try? String(contentsOfFile: dir + "/" + $0, encoding: .utf8)) ?? "").suffix(2000) }
                .joined(separator: "\n---\n")
        }
    }

    /// A cluster, a daemon with a data centre run by agents, and its agent on the cluster.
    static func start(agent arguments: [String]) async throws -> (Cluster, AgentProcessTests.Hub, VarlinkConnection) {
        let cluster = try Cluster()
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
        let cluster = try Cluster()
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
