import Foundation
import KarstProtocol

#if canImport(Glibc)
import Glibc
#endif

/// Runs each lease as a child process group: the command under `/bin/sh`, which writes the
/// command's exit status to the run's directory when it ends, so an end is known even if the
/// agent restarted meanwhile; output in `output` there. Stopping kills the whole group.
///
/// Resource limits are not enforced by this backend (no cgroup or rlimit is set): the job's
/// cores and memory are what the scheduler counts, not what the kernel holds it to.
public final class ProcessBackend: @unchecked Sendable {
    public let runDirectory: String

    public init(runDirectory: String) throws {
        // Absolute: a run changes directory before its status is written.
        self.runDirectory = runDirectory.hasPrefix("/")
            ? runDirectory : FileManager.default.currentDirectoryPath + "/" + runDirectory
        try FileManager.default.createDirectory(atPath: runDirectory, withIntermediateDirectories: true)
    }

    /// Where a run's files live.
    public func directory(job: String, attempt: Int) -> String { "\(runDirectory)/\(job).\(attempt)" }

    /// Starts a lease; returns its process group id (the site's id for the run).
    public func start(_ lease: WireLease) throws -> Int32 {
        let dir = directory(job: lease.job, attempt: lease.attempt)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let cwd = lease.workingDirectory ?? dir
        // sh -c 'cd "$1" && shift && "$@"; echo $? > status.tmp && mv status.tmp status' sh DIR CMD…
        let script = #"d=$1; w=$2; shift 2; cd "$w" && "$@"; s=$?; echo $s > "$d/status.tmp" && mv "$d/status.tmp" "$d/status"; exit $s"#
        let argv = ["/bin/sh", "-c", script, "karst-run", dir, cwd] + lease.command
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
        guard rc == 0 else { throw AgentFailure.spawn(String(cString: strerror(rc))) }
        return pid
    }

    /// The exit status of a run that ended, from its status file; nil while it runs (or if it
    /// died before writing one: see `isAlive`).
    public func exitStatus(job: String, attempt: Int) -> Int? {
        guard let text = try? String(contentsOfFile: directory(job: job, attempt: attempt) + "/status", encoding: .utf8)
        else { return nil }
        return Int(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Whether the process group still has a member.
    public func isAlive(_ pgid: Int32) -> Bool { kill(-pgid, 0) == 0 }

    /// Reaps every child that exited; returns their pids (each run's shell is its group's leader).
    public func reapExited() -> Set<Int32> {
        var out = Set<Int32>()
        var status: Int32 = 0
        while true {
            let pid = waitpid(-1, &status, WNOHANG)
            guard pid > 0 else { break }
            out.insert(pid)
        }
        return out
    }

    /// Stops a run: SIGTERM to the group, SIGKILL after `grace` seconds.
    public func stop(_ pgid: Int32, grace: Double = 5) {
        guard pgid > 1 else { return }
        guard grace > 0 else {
            kill(-pgid, SIGKILL)
            return
        }
        kill(-pgid, SIGTERM)
        let until = Date().addingTimeInterval(grace)
        while isAlive(pgid), Date() < until {
            var status: Int32 = 0
            _ = waitpid(pgid, &status, WNOHANG)  // the group's leader, if it is our child
            usleep(20_000)
        }
        if isAlive(pgid) { kill(-pgid, SIGKILL) }
        var status: Int32 = 0
        _ = waitpid(pgid, &status, WNOHANG)
    }
}

/// Why the agent could not do something.
public enum AgentFailure: Error, CustomStringConvertible {
    case spawn(String)
    case state(String)

    public var description: String {
        switch self {
        case .spawn(let reason): "cannot start the command: \(reason)"
        case .state(let reason): "the agent's state directory: \(reason)"
        }
    }
}
