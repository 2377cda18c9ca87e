import Foundation
import KarstProtocol

#if canImport(Glibc)
import Glibc
#endif

/// Runs each lease as a child process group: the command under `/bin/sh`, which enters the run's
/// limits (`RunLimits`: a cgroup v2 group, else an rlimit), changes to its working directory,
/// runs the command, and writes its exit status to the run's directory when it ends, so an end
/// is known even if the agent restarted meanwhile; output in `output` there. Stopping kills the
/// whole group (and, with cgroups, every process of the run's group).
public final class ProcessBackend: RunBackend, @unchecked Sendable {
    public var name: String { "process" }
    public var limitsSummary: String { limits.why }
    public var keeperArguments: [String] {
        ["--run-dir", runDirectory] + (limits.cgroupDirectory.map { ["--cgroup", $0] } ?? [])
    }

    public func output(job: String, attempt: Int) -> String { directory(job: job, attempt: attempt) + "/output" }

    public func start(_ lease: WireLease) throws -> StartedRun {
        let (pgid, applied) = try spawn(lease)
        return StartedRun(pgid: pgid, siteID: "pgid \(pgid)", limits: applied.description)
    }

    public func startedBefore(job: String, attempt: Int) -> StartedRun? {
        startedPGID(job: job, attempt: attempt).map { StartedRun(pgid: $0, siteID: "pgid \($0)") }
    }

    /// Reaps what exited; judges the runs whose shell exited, and at a sweep every run (those a
    /// restarted agent adopted are not its children).
    public func ended(_ runs: [AgentRun], sweep: Bool) -> [String: RunEnd] {
        let exited = reapExited()
        guard sweep || !exited.isEmpty else { return [:] }
        var out: [String: RunEnd] = [:]
        for run in runs where sweep || exited.contains(run.pgid) {
            let key = AgentRun.key(run.job, run.attempt)
            let oom = limits.killedForMemory(key) ? " (killed: out of memory; \(run.limits ?? ""))" : ""
            if let status = exitStatus(job: run.job, attempt: run.attempt) {
                out[key] = .exited(status, note: oom)
            } else if exited.contains(run.pgid) || !isAlive(run.pgid, job: run.job, attempt: run.attempt) {
                // The status is written before the shell exits: look once more now it is gone.
                if let status = exitStatus(job: run.job, attempt: run.attempt) {
                    out[key] = .exited(status, note: oom)
                } else if wasFenced(job: run.job, attempt: run.attempt) {
                    out[key] = RunEnd(message: "killed: agent fenced (no contact with the daemon)", fenced: true)
                } else {
                    out[key] = RunEnd(message: "the process ended without an exit status (killed by a signal?)" + oom)
                }
            }
        }
        return out
    }

    public func isGone(_ run: AgentRun) -> Bool { !isAlive(run.pgid, job: run.job, attempt: run.attempt) }
    public func terminate(_ run: AgentRun) { terminate(run.pgid, job: run.job, attempt: run.attempt) }
    public func kill(_ run: AgentRun) { stop(run.pgid, job: run.job, attempt: run.attempt) }
    /// A run is over when its command is: what it left behind in its group (or cgroup) goes too.
    public func release(_ run: AgentRun) {
        stop(run.pgid, job: run.job, attempt: run.attempt)
        limits.release(AgentRun.key(run.job, run.attempt))
    }

    public let runDirectory: String
    public let limits: RunLimits

    public init(runDirectory: String, limits: RunLimits) throws {
        // Absolute: a run changes directory before its status is written.
        self.runDirectory = runDirectory.hasPrefix("/")
            ? runDirectory : FileManager.default.currentDirectoryPath + "/" + runDirectory
        self.limits = limits
        try FileManager.default.createDirectory(atPath: runDirectory, withIntermediateDirectories: true)
    }

    /// Where a run's files live.
    public func directory(job: String, attempt: Int) -> String { "\(runDirectory)/\(job).\(attempt)" }

    /// The wrapper: `sh -c SCRIPT karst-run DIR WORKDIR CGROUP DATA-KIB COMMAND…`. It writes its
    /// pid (the run's process group) to `pid` first, and the exit status to `status` last; each
    /// is one `write` of a few bytes, and a reader that finds `status` empty looks again once the
    /// run is gone.
    static let script = #"d=$1; w=$2; cg=$3; lim=$4; shift 4; echo $$ > "$d/pid"; "#
        + #"fail() { echo "karst-agent: $1" >&2; echo 125 > "$d/status"; exit 125; }; "#
        + #"if [ -n "$cg" ]; then echo 0 > "$cg/cgroup.procs" || fail "cannot enter the run's cgroup $cg"; fi; "#
        + #"if [ -n "$lim" ]; then ulimit -d "$lim" || fail "cannot limit the data segment to $lim KiB"; fi; "#
        + #"cd "$w" || fail "cannot change to the working directory $w"; "#
        + #""$@"; s=$?; echo $s > "$d/status"; exit $s"#

    /// Starts a lease; returns its process group id (the site's id for the run) and the limits
    /// it runs under.
    func spawn(_ lease: WireLease) throws -> (pgid: Int32, limits: RunLimits.Applied) {
        let dir = directory(job: lease.job, attempt: lease.attempt)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let replicas = Double(max(1, lease.replicas))
        let applied = try limits.prepare("\(lease.job).\(lease.attempt)", cores: lease.cpu * replicas,
                                         memoryGiB: lease.memoryGiB * replicas)
        let cwd = lease.workingDirectory ?? dir
        let argv = ["/bin/sh", "-c", Self.script, "karst-run", dir, cwd, applied.cgroup ?? "",
                    applied.dataKiB.map(String.init) ?? ""] + lease.command
        var env = ["PATH=/usr/local/bin:/usr/bin:/bin", "KARST_JOB=\(lease.job)", "KARST_ATTEMPT=\(lease.attempt)",
                   "KARST_RUN_DIR=\(dir)"]
        for (k, v) in (lease.environment ?? [:]).sorted(by: { $0.key < $1.key }) { env.append("\(k)=\(v)") }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "\(dir)/output", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        posix_spawnattr_setpgroup(&attributes, 0)
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigdefault(&attributes, &all)

        var pid: pid_t = 0
        let cArgv = argv.map { strdup($0) } + [nil]
        let cEnv = env.map { strdup($0) } + [nil]
        defer { for p in cArgv + cEnv { free(p) } }
        let rc = posix_spawn(&pid, "/bin/sh", &actions, &attributes, cArgv, cEnv)
        guard rc == 0 else {
            limits.release("\(lease.job).\(lease.attempt)")
            throw AgentFailure.spawn(String(cString: strerror(rc)))
        }
        return (pid, applied)
    }

    /// The exit status of a run that ended, from its status file; nil while it runs (or if it
    /// died before writing one: see `isAlive`).
    public func exitStatus(job: String, attempt: Int) -> Int? {
        guard let text = try? String(contentsOfFile: directory(job: job, attempt: attempt) + "/status", encoding: .utf8),
              !text.isEmpty
        else { return nil }
        return Int(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// The process group of run (job, attempt) if it was started here already: its directory
    /// holds the pid its shell wrote (an agent that crashed after starting it and before saving
    /// its state finds it this way rather than starting it twice). Nil if it never started.
    func startedPGID(job: String, attempt: Int) -> Int32? {
        guard let text = try? String(contentsOfFile: directory(job: job, attempt: attempt) + "/pid", encoding: .utf8)
        else { return nil }
        return Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Whether the fence keeper killed run (job, attempt) (it marks the run's directory first).
    public func wasFenced(job: String, attempt: Int) -> Bool {
        FileManager.default.fileExists(atPath: directory(job: job, attempt: attempt) + "/fenced")
    }

    /// Whether run (job, attempt)'s process group still has a member. A group id is not reused
    /// while the group lives; its leader, when present, must be this run's shell (its command
    /// line names the run's directory), or the id now belongs to someone else.
    public func isAlive(_ pgid: Int32, job: String, attempt: Int) -> Bool {
        Self.isRunGroup(pgid, directory: directory(job: job, attempt: attempt))
    }

    /// `isAlive` for any run directory (the fence keeper's check).
    ///
    /// A group whose members are all zombies still answers kill(2): such a run counts as alive
    /// until they are reaped — by the agent itself, which is its runs' subreaper, at its next
    /// turn (or by init, for runs of an earlier agent). Cheap: no walk over /proc.
    static func isRunGroup(_ pgid: Int32, directory: String) -> Bool {
        guard pgid > 1, Glibc.kill(-pgid, 0) == 0 else { return false }
        guard Glibc.kill(pgid, 0) == 0 else { return true }  // the leader is gone, members are not
        let cmdline = FenceKeeper.commandLine(of: pgid)
        // A zombie leader has no command line: it is this run's shell, exited, not reaped yet.
        return cmdline.isEmpty || cmdline.contains(" \(directory) ")
    }

    /// A /proc file's text, read with read(2) (they report a size of 0).
    static func readProcFile(_ path: String) -> String? {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            guard n > 0 else { break }
            bytes += buffer[0..<n]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Reaps every child that exited; returns their pids (each run's shell is its group's leader).
    func reapExited() -> Set<Int32> {
        var out = Set<Int32>()
        var status: Int32 = 0
        while true {
            let pid = waitpid(-1, &status, WNOHANG)
            guard pid > 0 else { break }
            out.insert(pid)
        }
        return out
    }

    /// Asks run (job, attempt) to end: SIGTERM to its group.
    public func terminate(_ pgid: Int32, job: String, attempt: Int) {
        if isAlive(pgid, job: job, attempt: attempt) { Glibc.kill(-pgid, SIGTERM) }
    }

    /// Kills run (job, attempt) now: SIGKILL to its group and, with cgroups, to every process
    /// left in its cgroup (one that left the group); its shell reaped if it is our child.
    public func stop(_ pgid: Int32, job: String, attempt: Int) {
        if isAlive(pgid, job: job, attempt: attempt) { Glibc.kill(-pgid, SIGKILL) }
        limits.killAll("\(job).\(attempt)")
        var status: Int32 = 0
        _ = waitpid(pgid, &status, WNOHANG)
    }
}

/// Why the agent could not do something.
public enum AgentFailure: Error, CustomStringConvertible {
    case spawn(String)
    case state(String)
    case limits(String)
    case tls(String)
    /// A daemon answered as leader with an older epoch than this agent has seen.
    case staleLeader(String)

    public var description: String {
        switch self {
        case .spawn(let reason): "cannot start the command: \(reason)"
        case .state(let reason): "the agent's state directory: \(reason)"
        case .limits(let reason): "cannot set the run's limits: \(reason)"
        case .tls(let reason): "TLS: \(reason)"
        case .staleLeader(let reason): reason
        }
    }
}
