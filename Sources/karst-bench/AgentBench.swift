import ArgumentParser
import Foundation
import KarstClient
import KarstConfig
import KarstProtocol
import KarstTesting
import Synchronization

/// `karst-bench agents`: jobs that run real processes, end to end — submitted, leased, pushed
/// to a site agent, run (`/bin/true`), reported and committed.
struct AgentBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agents",
        abstract: "End-to-end throughput and latency of jobs run by site agents (karst-agent, /bin/true).",
        discussion: """
            Starts the release karstd built beside this binary, on the built-in hub with one data
            centre (gcbd-icloud) given to agents, and --agents karst-agent processes. First, at low
            load, --latency-jobs jobs one at a time: submit-to-started latency (the agent's start
            report, as a Watch sees it). Then --jobs jobs of /bin/true in batches of 1,000, followed
            with a Watch: jobs per second from the first submit to the last end committed,
            submit-to-placed, -started and -end latencies, and CPU per job in the daemon, in the
            agents, and in the runs themselves (the shell and /bin/true, reaped by the agents).
            --backend slurm starts a single-node Slurm of its own (as the tests do; needs root and
            slurm-wlm) and, after Karst's run, submits the same jobs to it directly with one sbatch
            each: jobs/s and submit-to-end side by side. --backend systemd needs systemd as PID 1.
            """)

    @Option(help: "Site agents.") var agents = 2
    @Option(help: "Jobs.") var jobs = 10_000
    @Option(help: "Jobs submitted one at a time first, for the latency at low load.") var latencyJobs = 200
    @Flag(help: "The daemon persists its state (group commit, synchronous=FULL).") var durable = false
    @Option(help: "The agents' backend: process, slurm or systemd.") var backend = "process"
    @Option(help: "slurm: the node's cores (each job takes one).") var slurmCores = 32

    func run() throws {
        guard ["process", "slurm", "systemd"].contains(backend) else { throw ValidationError("--backend: process, slurm or systemd") }
        var environment: [String: String] = [:]
        var cluster: SlurmCluster?
        defer { cluster?.stop() }
        switch backend {
        case "slurm":
            guard SlurmCluster.possible else { throw ValidationError("--backend slurm needs root and Slurm (make deps installs slurm-wlm and munge)") }
            let c = try SlurmCluster(cpus: slurmCores, memoryMiB: slurmCores * 1024)
            cluster = c
            guard c.waitReady() else { throw ValidationError("the Slurm node did not come up:\n\(c.logs())") }
            environment = c.environment
        case "systemd":
            guard FileManager.default.fileExists(atPath: "/run/systemd/system") else {
                throw ValidationError("--backend systemd needs systemd as PID 1 (this machine's PID 1 is not systemd)")
            }
        default: break
        }
        let bin = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("karst-bench-agents-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try BuiltinConfig.text.replacingOccurrences(of: "id = \"gcbd-icloud\"\n", with: "id = \"gcbd-icloud\"\nexecutor = \"agents\"\n")
            .write(toFile: dir + "/karstd.toml", atomically: true, encoding: .utf8)
        let socket = dir + "/k.sock"
        let daemon = try launch(bin.appendingPathComponent("karstd"), ["--config", dir + "/karstd.toml", "--socket", socket,
                                                                       "--log-level", "error"]
                                + (durable ? ["--state-dir", dir + "/state"] : ["--ephemeral"]))
        for _ in 0..<500 where !FileManager.default.fileExists(atPath: socket) { usleep(10_000) }
        var agentProcesses: [Process] = []
        defer {
            for p in agentProcesses + [daemon] where p.isRunning { p.terminate(); p.waitUntilExit() }
        }
        for i in 0..<agents {
            agentProcesses.append(try launch(bin.appendingPathComponent("karst-agent"),
                                             ["--socket", socket, "--datacenter", "gcbd-icloud", "--name", "bench-\(i)",
                                              "--state-dir", dir + "/agent-\(i)", "--backend", backend], environment: environment))
        }
        let admin = try VarlinkConnection(path: socket)
        for _ in 0..<500 {
            let listed = try admin.call(AdminInterface.Agents.name)
            if (listed["agents"]?.arrayValue ?? []).count == agents { break }
            usleep(10_000)
        }
        print("karstd (pid \(daemon.processIdentifier)), \(agents) agents (backend \(backend)), \(jobs) jobs of /bin/true"
              + (durable ? ", durable" : ", in memory"))

        let watch = try VarlinkConnection(path: socket)
        try watch.stream(SchedulerInterface.Watch.name)
        _ = try admin.call(AdminInterface.Stats.name)  // the watch is registered before the first submit
        // Slurm: a core and 100 MiB each (its smallest unit of CPU), so the same sbatch can be
        // made directly; a minute's duration gives Slurm a 2-minute time limit.
        let spec = backend == "slurm"
            ? WireJobSpec(origin: "gba", priorityClass: "batch", resources: WireResources(cpu: 1, memoryGiB: 0.1),
                          durationSeconds: 60, command: ["/bin/true"])
            : WireJobSpec(origin: "gba", priorityClass: "batch", resources: WireResources(cpu: 0.001, memoryGiB: 0.001),
                          durationSeconds: 1, command: ["/bin/true"])
        // The watch is read on a thread of its own, so it keeps up while the batches go in.
        let seen = Mutex<[(id: String, kind: String, at: Double)]>([])
        let failures = Mutex<[String: Int]>([:])
        let reader = Thread {
            while let r = try? watch.receive(), r.error == nil {
                guard let event = r.parameters["event"]?.objectValue, let kind = event["kind"]?.stringValue,
                      let id = event["job"]?.objectValue?["id"]?.stringValue else { continue }
                let t = monotonicSeconds()
                seen.withLock { $0.append((id, kind, t)) }
                if kind == "failed" {
                    let message = event["job"]?.objectValue?["message"]?.stringValue ?? "?"
                    failures.withLock { $0[message, default: 0] += 1 }
                }
            }
        }
        reader.start()

        // Low load: one job at a time, each waited for (its start report) before the next.
        var quiet: [Double] = []
        for _ in 0..<latencyJobs {
            let t = monotonicSeconds()
            let reply = try admin.call(SchedulerInterface.Submit.name, SchedulerInterface.Submit.Parameters(job: spec).jsonObject)
            guard let id = reply["job"]?.objectValue?["id"]?.stringValue else { continue }
            let until = t + 10
            var started: Double?
            while started == nil, monotonicSeconds() < until {
                started = seen.withLock { $0.last { $0.id == id && $0.kind == "started" }?.at }
                if started == nil { usleep(100) }
            }
            if let started { quiet.append(started - t) }
        }
        quiet.sort()
        // Let the last of them end before the throughput phase starts counting.
        for _ in 0..<500 where seen.withLock({ $0.filter { $0.kind == "succeeded" || $0.kind == "failed" }.count }) < latencyJobs {
            usleep(10_000)
        }
        seen.withLock { $0.removeAll() }

        let cpuBefore = cpuSeconds(daemon.processIdentifier), agentCPUBefore = agentProcesses.map { cpuSeconds($0.processIdentifier) }
        let childCPUBefore = agentProcesses.map { childCPUSeconds($0.processIdentifier) }
        let managerCPUBefore = cpuSeconds(1)  // systemd's, for --backend systemd
        var submittedAt: [String: Double] = [:]
        let start = monotonicSeconds()
        for chunk in stride(from: 0, to: jobs, by: 1000) {
            let n = min(1000, jobs - chunk)
            let t = monotonicSeconds()
            let reply = try admin.call(SchedulerInterface.SubmitBatch.name,
                                       SchedulerInterface.SubmitBatch.Parameters(jobs: Array(repeating: spec, count: n)).jsonObject)
            for j in reply["jobs"]?.arrayValue ?? [] { if let id = j.objectValue?["id"]?.stringValue { submittedAt[id] = t } }
        }
        var placed: [Double] = [], started: [Double] = [], ended: [Double] = [], failed = 0
        let deadline = monotonicSeconds() + 600
        while monotonicSeconds() < deadline {
            let events = seen.withLock { $0 }
            if events.filter({ $0.kind == "succeeded" || $0.kind == "failed" }).count >= jobs { break }
            usleep(20_000)
        }
        for e in seen.withLock({ $0 }) {
            guard let t0 = submittedAt[e.id] else { continue }
            switch e.kind {
            case "placed": placed.append(e.at - t0)
            case "started": started.append(e.at - t0)
            case "succeeded": ended.append(e.at - t0)
            case "failed": ended.append(e.at - t0); failed += 1
            default: break
            }
        }
        let last = seen.withLock { $0.last?.at } ?? monotonicSeconds()
        let elapsed = last - start
        let daemonCPU = cpuSeconds(daemon.processIdentifier) - cpuBefore
        let agentCPU = zip(agentProcesses, agentCPUBefore).reduce(0.0) { $0 + cpuSeconds($1.0.processIdentifier) - $1.1 }
        let childCPU = zip(agentProcesses, childCPUBefore).reduce(0.0) { $0 + childCPUSeconds($1.0.processIdentifier) - $1.1 }
        let managerCPU = cpuSeconds(1) - managerCPUBefore
        placed.sort()
        started.sort()
        ended.sort()
        print("""
            low load, \(quiet.count) jobs one at a time:
              submit → started:     p50 \(ms(percentile(quiet, 0.5))) ms, p99 \(ms(percentile(quiet, 0.99))) ms, max \(ms(quiet.last ?? 0)) ms
            \(jobs) jobs in batches of 1,000:
              jobs/s end to end:    \(Int(Double(jobs) / elapsed)) (\(jobs) in \(String(format: "%.2f", elapsed)) s, \(failed) failed)
              submit → placed:      p50 \(ms(percentile(placed, 0.5))) ms, p99 \(ms(percentile(placed, 0.99))) ms
              submit → started:     p50 \(ms(percentile(started, 0.5))) ms, p99 \(ms(percentile(started, 0.99))) ms
              submit → end:         p50 \(ms(percentile(ended, 0.5))) ms, p99 \(ms(percentile(ended, 0.99))) ms
              CPU per job:          daemon \(micros(daemonCPU / Double(jobs))) µs, agents \(micros(agentCPU / Double(jobs))) µs, \
            runs (sh + /bin/true) \(micros(childCPU / Double(jobs))) µs
            """)
        if backend == "systemd" { print("  CPU per job in systemd (PID 1, starting and reaping units): \(micros(managerCPU / Double(jobs))) µs") }
        for (message, n) in failures.withLock({ $0 }).sorted(by: { $0.value > $1.value }) { print("  failed \(n)×: \(message)") }
        if let cluster { try SbatchBaseline(cluster: cluster, jobs: jobs, megabytes: 103, minutes: 2).run() }
    }

    func launch(_ url: URL, _ args: [String], environment: [String: String] = [:]) throws -> Process {
        let p = Process()
        p.executableURL = url
        p.arguments = args
        if !environment.isEmpty { p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        p.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try p.run()
        return p
    }

    func ms(_ s: Double) -> String { String(format: "%.1f", s * 1000) }

    /// User + system CPU seconds of a process, from /proc.
    func cpuSeconds(_ pid: Int32) -> Double { statSeconds(pid, fields: 11, 12) }

    /// User + system CPU seconds of the children a process reaped (an agent's runs).
    func childCPUSeconds(_ pid: Int32) -> Double { statSeconds(pid, fields: 13, 14) }

    private func statSeconds(_ pid: Int32, fields a: Int, _ b: Int) -> Double {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return 0 }
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > b, let u = Double(fields[a]), let s = Double(fields[b]) else { return 0 }
        return (u + s) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}
