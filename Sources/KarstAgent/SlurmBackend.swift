import Foundation
import KarstProtocol

#if canImport(Glibc)
import Glibc
#endif

/// Runs each lease as a job of a Slurm cluster: `sbatch --parsable --no-requeue` of a small
/// script in the run's directory, named `karst-JOB-ATTEMPT` (the name is the idempotency key:
/// it is looked up before every submission), with the job's cores, memory and a time limit from
/// its expected duration, in the partition its pool maps to. Karst owns retries, so Slurm's own
/// requeue is off (a requeued job keeps its id and confuses whoever watches it).
///
/// State comes from `squeue` (once a second, for every run at once) and, for a job that ended,
/// `scontrol show job` (its `ExitCode`); a stop is `scancel`. After an agent restart, jobs are
/// found again by name. The commands use the agent's environment (`SLURM_CONF`, `PATH`).
public final class SlurmBackend: RunBackend, @unchecked Sendable {
    public var name: String { "slurm" }
    public let runDirectory: String
    /// Pool → partition; runs of other pools go to `defaultPartition` (nil: Slurm's default).
    public let partitions: [String: String]
    public let defaultPartition: String?
    /// The time limit is the expected duration × this, plus a minute (Slurm counts minutes).
    public let timeMargin: Double

    public init(runDirectory: String, partitions: [String: String] = [:], defaultPartition: String? = nil,
                timeMargin: Double = 1.5) throws {
        self.runDirectory = runDirectory.hasPrefix("/")
            ? runDirectory : FileManager.default.currentDirectoryPath + "/" + runDirectory
        self.partitions = partitions
        self.defaultPartition = defaultPartition
        self.timeMargin = timeMargin
        try FileManager.default.createDirectory(atPath: self.runDirectory, withIntermediateDirectories: true)
        guard Self.tool("sbatch") != nil, Self.tool("squeue") != nil, Self.tool("scancel") != nil, Self.tool("scontrol") != nil
        else { throw AgentFailure.spawn("the Slurm backend needs sbatch, squeue, scontrol and scancel on PATH") }
    }

    public var limitsSummary: String { "Slurm's (cores, memory and time limit given to sbatch; enforced by the cluster's own plugins)" }
    public var keeperArguments: [String] { [] }

    public func directory(job: String, attempt: Int) -> String { "\(runDirectory)/\(job).\(attempt)" }
    public func output(job: String, attempt: Int) -> String { directory(job: job, attempt: attempt) + "/output" }
    static func jobName(_ job: String, _ attempt: Int) -> String { "karst-\(job)-\(attempt)" }

    /// Called only after `startedBefore` found nothing (the agent asks it first).
    public func start(_ lease: WireLease) throws -> StartedRun {
        let dir = directory(job: lease.job, attempt: lease.attempt)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try script(lease).write(toFile: dir + "/job.sh", atomically: true, encoding: .utf8)
        let replicas = Double(max(1, lease.replicas))
        // Clamped: a lease of an absurd size must fail in sbatch, not trap the agent.
        let cores = max(1, Int(min((lease.cpu * replicas).rounded(.up), 1e15)))
        let megabytes = max(1, Int(min((lease.memoryGiB * replicas * 1024).rounded(.up), 1e15)))
        var args = ["--parsable", "--no-requeue", "--job-name", Self.jobName(lease.job, lease.attempt),
                    "--ntasks", "1", "--cpus-per-task", "\(cores)", "--mem", "\(megabytes)M",
                    "--output", dir + "/output", "--chdir", dir]
        var limits = "slurm: --cpus-per-task \(cores) --mem \(megabytes)M"
        if let seconds = lease.durationSeconds, seconds.isFinite, seconds > 0 {
            let minutes = Int(min(seconds * timeMargin / 60 + 1, 525_600).rounded(.up))
            args += ["--time", "\(minutes)"]
            limits += " --time \(minutes)"
        }
        if let partition = lease.pool.flatMap({ partitions[$0] }) ?? defaultPartition {
            args += ["--partition", partition]
            limits += " --partition \(partition)"
        }
        let (status, out, err) = Self.run("sbatch", args + [dir + "/job.sh"], timeout: Self.changeTimeout)
        guard status == 0, let id = out.split(separator: ";").first.map({ String($0).trimmingCharacters(in: .whitespacesAndNewlines) }),
              !id.isEmpty, id.allSatisfy(\.isNumber)
        else { throw AgentFailure.spawn("sbatch failed (\(status)): \(err.trimmingCharacters(in: .whitespacesAndNewlines))") }
        // Kept beside the run: a job Slurm no longer lists is still known as submitted.
        try? id.write(toFile: dir + "/slurm-id", atomically: true, encoding: .utf8)
        return StartedRun(pgid: 0, handle: id, siteID: "slurm job \(id)", limits: limits)
    }

    /// The batch script: the environment, the working directory, then the command (each word
    /// quoted for the shell).
    func script(_ lease: WireLease) -> String {
        var lines = ["#!/bin/sh", "export KARST_JOB=\(Self.quote(lease.job)) KARST_ATTEMPT=\(lease.attempt)"]
        for (k, v) in (lease.environment ?? [:]).sorted(by: { $0.key < $1.key }) { lines.append("export \(k)=\(Self.quote(v))") }
        if let w = lease.workingDirectory { lines.append("cd \(Self.quote(w)) || exit 125") }
        lines.append("exec " + lease.command.map(Self.quote).joined(separator: " "))
        return lines.joined(separator: "\n") + "\n"
    }

    static func quote(_ word: String) -> String { "'" + word.replacingOccurrences(of: "'", with: #"'\''"#) + "'" }

    /// Job ids by name for the leases `prepare` was given (an entry per name; nil: not submitted).
    private var prepared: [String: String?] = [:]

    /// Looks up every lease's name with one `squeue` per 200 names.
    public func prepare(_ leases: [WireLease]) {
        let names = leases.filter { $0.stop == nil }.map { Self.jobName($0.job, $0.attempt) }
        let (ids, answered) = squeue("--name", names, format: "%j|%i")
        // Names whose squeue failed are not here: looked up one by one then.
        prepared = Dictionary(answered.map { ($0, ids[$0]) }, uniquingKeysWith: { a, _ in a })
    }

    public func startedBefore(job: String, attempt: Int) -> StartedRun? {
        let name = Self.jobName(job, attempt)
        let listed: String?
        if let known = prepared.removeValue(forKey: name) {
            listed = known
        } else {
            listed = squeue("--name", [name], format: "%j|%i").pairs[name]
        }
        let kept = (try? String(contentsOfFile: directory(job: job, attempt: attempt) + "/slurm-id", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines)
        guard let id = listed ?? kept, !id.isEmpty else { return nil }
        return StartedRun(pgid: 0, handle: id, siteID: "slurm job \(id)")
    }

    /// Slurm's states in which a job will not run any more.
    static let finalStates: Set<String> = ["COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "OUT_OF_MEMORY", "NODE_FAIL",
                                           "PREEMPTED", "BOOT_FAIL", "DEADLINE", "REVOKED", "SPECIAL_EXIT"]

    public func ended(_ runs: [AgentRun], sweep: Bool) -> [String: RunEnd] {
        guard sweep, !runs.isEmpty else { return [:] }
        let (states, answered) = self.states(of: runs.compactMap(\.handle))
        var out: [String: RunEnd] = [:]
        for run in runs {
            // A job squeue could not be asked about (slurmctld down, restarting) is not judged.
            guard let id = run.handle, answered.contains(id) else { continue }
            let key = AgentRun.key(run.job, run.attempt)
            switch states[id] {
            case .some(let state) where Self.finalStates.contains(state):
                out[key] = end(of: id, state: state)
            case .some:
                continue
            case .none:
                out[key] = accounted(id) ?? RunEnd(message: "Slurm job \(id) is no longer known to the cluster; its end is unknown")
            }
        }
        return out
    }

    /// Each job's state by id (a job Slurm forgot is absent), and the ids squeue answered for.
    func states(of ids: [String]) -> (states: [String: String], answered: Set<String>) {
        let (states, answered) = squeue("--jobs", ids, format: "%i|%T")
        return (states, Set(answered))
    }

    /// `squeue --states=all` of the jobs that `values` of `option` (`--name`, `--jobs`) select,
    /// 200 values to a call, read as `format`'s two fields (`%j|%i`: name → id): the pairs, and
    /// the values whose call answered.
    func squeue(_ option: String, _ values: [String], format: String) -> (pairs: [String: String], answered: [String]) {
        var pairs: [String: String] = [:], answered: [String] = []
        for chunk in stride(from: 0, to: values.count, by: 200) {
            // While slurmctld does not answer, nothing is asked (and nothing judged) for a while:
            // the agent's loop must go on reporting and heartbeating.
            guard monotonicSeconds() >= quietUntil else { break }
            let some = values[chunk..<min(values.count, chunk + 200)]
            let (status, text, _) = Self.run("squeue", ["--states=all", "--noheader", option, some.joined(separator: ","),
                                                        "--format", format], timeout: Self.pollTimeout)
            if status == Self.timedOut { quietUntil = monotonicSeconds() + Self.quietAfterTimeout }
            guard status == 0 else { continue }
            answered += some
            for line in text.split(separator: "\n") {
                let f = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
                if f.count == 2 { pairs[f[0]] = f[1] }
            }
        }
        return (pairs, answered)
    }

    /// The end of a job slurmctld forgot (past `MinJobAge`), from accounting (`sacct`), where the
    /// cluster keeps it; nil without accounting.
    func accounted(_ id: String) -> RunEnd? {
        guard Self.tool("sacct") != nil else { return nil }
        let (status, text, _) = Self.run("sacct", ["--noheader", "--parsable2", "--allocations", "--jobs", id,
                                                    "--format", "State,ExitCode"], timeout: Self.pollTimeout)
        guard status == 0, let line = text.split(separator: "\n").first else { return nil }
        let f = line.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
        guard f.count == 2, let state = f[0].split(separator: " ").first.map(String.init), Self.finalStates.contains(state)
        else { return nil }
        return end(state: state, exitCode: f[1], id: id)
    }

    /// A finished job's end from `scontrol show job`: `ExitCode=STATUS:SIGNAL`.
    func end(of id: String, state: String) -> RunEnd {
        let (_, text, _) = Self.run("scontrol", ["--oneliner", "show", "job", id], timeout: Self.pollTimeout)
        let code = text.split(separator: " ").first { $0.hasPrefix("ExitCode=") }?.dropFirst("ExitCode=".count)
        return end(state: state, exitCode: code.map(String.init), id: id)
    }

    /// The end a final state and an `ExitCode` (`STATUS:SIGNAL`) make.
    func end(state: String, exitCode code: String?, id: String) -> RunEnd {
        let parts = code?.split(separator: ":").compactMap { Int($0) } ?? []
        let status = parts.first, signal = parts.count > 1 ? parts[1] : 0
        switch state {
        case "COMPLETED": return .exited(status ?? 0)
        case "FAILED" where signal == 0 && status != nil: return .exited(status!)
        default:
            return RunEnd(exitStatus: signal == 0 ? status : nil,
                          message: "Slurm job \(id) \(state.lowercased())" + (signal != 0 ? " (signal \(signal))" : ""))
        }
    }

    /// Until when (monotonic seconds) the backend asks slurmctld nothing: set when a command
    /// found it unresponsive.
    private var quietUntil = 0.0
    /// A polling command (squeue, sacct, scontrol) is given this long, then killed: squeue
    /// against a stopped or unreachable slurmctld waits for it ~10 s per try (MessageTimeout),
    /// and the agent's loop — its heartbeats, its fence — must not wait with it.
    static let pollTimeout = 2.0
    /// After a command timed out, slurmctld is left alone this long.
    static let quietAfterTimeout = 5.0
    /// A submission or cancellation is given longer (it changes the cluster: a timeout leaves it
    /// unknown whether it took effect; the name lookup before the next submission tells).
    static let changeTimeout = 15.0
    /// The status `run` returns when it killed the command at its timeout.
    static let timedOut: Int32 = 124

    /// Stopping runs are judged at most twice a second each (a `squeue` apiece).
    private var lastLook: [String: Double] = [:]

    public func isGone(_ run: AgentRun) -> Bool {
        guard let id = run.handle else { return true }
        let now = monotonicSeconds()
        if let last = lastLook[id], now - last < 0.5 { return false }
        lastLook[id] = now
        let (states, answered) = states(of: [id])
        guard answered.contains(id) else { return false }  // squeue failed: asked again later
        guard let state = states[id] else {
            lastLook[id] = nil
            return true
        }
        if Self.finalStates.contains(state) { lastLook[id] = nil }
        return Self.finalStates.contains(state)
    }

    public func terminate(_ run: AgentRun) {
        if let id = run.handle { _ = Self.run("scancel", [id], timeout: Self.changeTimeout) }
    }

    public func kill(_ run: AgentRun) {
        if let id = run.handle, isGone(run) == false {
            _ = Self.run("scancel", ["--signal", "KILL", "--full", id], timeout: Self.changeTimeout)
        }
    }

    public func release(_ run: AgentRun) {}

    /// The fence keeper's cancellation of a run (`scancel`).
    static func cancelForFence(_ id: String) {
        _ = run("scancel", [id], timeout: changeTimeout)
    }

    // MARK: - The Slurm commands

    /// The path of a Slurm command on PATH.
    static func tool(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Runs a Slurm command; its exit status, standard output and standard error. With a
    /// `timeout`, a command still running after it is killed (SIGKILL) and reported as status
    /// `timedOut` (124, as timeout(1) does).
    static func run(_ name: String, _ args: [String], timeout: Double? = nil) -> (Int32, String, String) {
        guard let path = tool(name) else { return (127, "", "\(name) is not on PATH") }
        var out: [Int32] = [0, 0], err: [Int32] = [0, 0]
        guard pipe(&out) == 0 else { return (126, "", "pipe: \(String(cString: strerror(errno)))") }
        guard pipe(&err) == 0 else {
            Glibc.close(out[0]); Glibc.close(out[1])
            return (126, "", "pipe: \(String(cString: strerror(errno)))")
        }
        // Not inherited by anything else the agent starts (the child gets its ends by dup2).
        for fd in out + err { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, out[1], 1)
        posix_spawn_file_actions_adddup2(&actions, err[1], 2)
        let argv = ([path] + args).map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, path, &actions, nil, argv, environ)
        Glibc.close(out[1])
        Glibc.close(err[1])
        guard rc == 0 else {
            Glibc.close(out[0]); Glibc.close(err[0])
            return (126, "", "\(name): \(String(cString: strerror(rc)))")
        }
        // Both pipes read until they close (or the deadline), so a chatty stderr cannot block it.
        let deadline = timeout.map { monotonicSeconds() + $0 }
        var stdout: [UInt8] = [], stderr: [UInt8] = []
        var open: [(fd: Int32, isOut: Bool)] = [(out[0], true), (err[0], false)]
        var killed = false
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while !open.isEmpty {
            var fds = open.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
            let wait = deadline.map { max(0, Int32(($0 - monotonicSeconds()) * 1000)) } ?? -1
            let ready = poll(&fds, nfds_t(fds.count), wait)
            if ready < 0 && errno == EINTR { continue }
            if ready == 0 {
                Glibc.kill(pid, SIGKILL)
                killed = true
                break
            }
            var still: [(fd: Int32, isOut: Bool)] = []
            for (i, p) in fds.enumerated() {
                guard p.revents != 0 else { still.append(open[i]); continue }
                let n = chunk.withUnsafeMutableBytes { read(p.fd, $0.baseAddress, $0.count) }
                if n > 0 {
                    if open[i].isOut { stdout += chunk[0..<n] } else { stderr += chunk[0..<n] }
                    still.append(open[i])
                } else if n < 0 && errno == EINTR {
                    still.append(open[i])
                } else {
                    Glibc.close(p.fd)
                }
            }
            open = still
        }
        for o in open { Glibc.close(o.fd) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        if killed { return (timedOut, "", "\(name) gave no answer within \(timeout ?? 0) s (killed)") }
        let exit: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return (exit, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }
}
