import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// When the agent last reached the daemon, kept in its state directory (`contact`) so that the
/// fence outlives the agent process: the fence keeper reads it, and a restarted agent counts its
/// fence from it rather than from its own start.
///
/// Times are `CLOCK_MONOTONIC` seconds, one clock for every process of the machine (a value
/// from a previous boot is later than now, and ignored).
struct ContactFile: Equatable {
    var agentPID: Int32
    /// When the last answered report was sent.
    var lastContact: Double
    var fenceSeconds: Double

    static func path(_ stateDirectory: String) -> String { stateDirectory + "/contact" }

    static func read(_ stateDirectory: String) -> ContactFile? {
        guard let text = try? String(contentsOfFile: path(stateDirectory), encoding: .utf8) else { return nil }
        let f = text.split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard f.count == 3, let pid = Int32(f[0]), let last = Double(f[1]), let fence = Double(f[2]),
              last <= monotonicSeconds() else { return nil }
        return ContactFile(agentPID: pid, lastContact: last, fenceSeconds: fence)
    }

    /// Written whole (a new file renamed over the old one).
    func write(_ stateDirectory: String) {
        let path = Self.path(stateDirectory)
        let text = "\(agentPID) \(lastContact) \(fenceSeconds)\n"
        guard (try? text.write(toFile: path + ".tmp", atomically: false, encoding: .utf8)) != nil else { return }
        rename(path + ".tmp", path)
    }
}

/// The monotonic clock, in seconds.
func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// The fence that holds when the agent is gone: a small process of its own (`karst-agent
/// fence-keeper`), started by the agent and outliving it, which kills every run the agent's
/// state lists once the agent has not reached the daemon for the fence timeout. Without it, a
/// `kill -9` of the agent would leave its runs alive while the daemon, after `agent_lost`,
/// requeues them elsewhere: two live attempts of one job.
///
/// It watches the contact file every 100 ms; it leaves once the agent is gone and no run of
/// its state is alive. A restarted agent uses the keeper still running (`keeper.pid`).
public enum FenceKeeper {
    /// Runs the keeper until the agent is gone and no run is left; never returns.
    /// Runs with a process group are killed by it (their shell must name their directory under
    /// `runDirectory`); runs with a `handle` are a Slurm backend's (`scancel`), or, with
    /// `systemd`, a systemd backend's units (`KillUnit` with SIGKILL, over the user's manager
    /// with `userManager`).
    public static func run(stateDirectory: String, runDirectory: String?, cgroup: String?, systemd: Bool = false,
                           userManager: Bool = false) -> Never {
        let me = getpid()
        try? "\(me)\n".write(toFile: stateDirectory + "/keeper.pid", atomically: true, encoding: .utf8)
        let limits = RunLimits(mode: cgroup.map { .cgroup($0) } ?? .rlimits, why: "the agent's")
        var fenced = Set<String>()
        while true {
            usleep(100_000)
            let contact = ContactFile.read(stateDirectory)
            let agentAlive = contact.map { isAgent($0.agentPID) } ?? false
            let fence = contact.map { monotonicSeconds() - $0.lastContact >= $0.fenceSeconds } ?? false
            // The runs are read only when they matter: past the fence, or once the agent is gone.
            guard fence || !agentAlive else { continue }
            let runs = ((try? AgentState.load(stateDirectory)) ?? [:]).values.filter { run in
                guard run.isRunning else { return false }
                if run.handle != nil { return true }
                guard let runDirectory, run.pgid > 1 else { return false }
                return ProcessBackend.isRunGroup(run.pgid, directory: "\(runDirectory)/\(run.job).\(run.attempt)")
            }
            if fence, let contact {
                for run in runs where !fenced.contains(AgentRun.key(run.job, run.attempt)) || run.handle == nil {
                    if let handle = run.handle, systemd {
                        _ = SystemdBackend.killForFence(handle, stateDirectory: stateDirectory, userManager: userManager)
                    } else if let handle = run.handle {
                        SlurmBackend.cancelForFence(handle)
                    } else if let runDirectory {
                        // Marked first: the agent, if it comes back, reports the end as fenced.
                        _ = FileManager.default.createFile(atPath: "\(runDirectory)/\(run.job).\(run.attempt)/fenced", contents: nil)
                        kill(-run.pgid, SIGKILL)
                        limits.killAll("\(run.job).\(run.attempt)")
                    }
                    if fenced.insert(AgentRun.key(run.job, run.attempt)).inserted {
                        log("fence: no contact with the daemon for \(contact.fenceSeconds) s: killed \(run.job) attempt \(run.attempt)")
                    }
                }
            }
            // Slurm jobs and units are gone once cancelled or killed (their end is for the agent to see).
            if !agentAlive && runs.allSatisfy({ $0.handle != nil && fenced.contains(AgentRun.key($0.job, $0.attempt)) }) {
                if (try? String(contentsOfFile: stateDirectory + "/keeper.pid", encoding: .utf8))?
                    .trimmingCharacters(in: .whitespacesAndNewlines) == "\(me)" {
                    unlink(stateDirectory + "/keeper.pid")
                }
                exit(0)
            }
        }
    }

    /// Starts a keeper for the agent's state unless one is running; returns its pid.
    static func ensure(stateDirectory: String, arguments: [String]) throws -> Int32 {
        if let text = try? String(contentsOfFile: stateDirectory + "/keeper.pid", encoding: .utf8),
           let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), commandLine(of: pid).contains("fence-keeper") {
            return pid
        }
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let argv = [exe, "fence-keeper", "--state-dir", stateDirectory] + arguments
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // Its own process group: a signal to the agent's group (a terminal's ^C) does not reach it.
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
        posix_spawnattr_setpgroup(&attributes, 0)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        // It says what it does on standard error (the agent's journal stream under systemd); its
        // standard output would only keep a pipe of whoever started the agent open.
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        var pid: pid_t = 0
        let cArgv = argv.map { strdup($0) } + [nil]
        defer { for p in cArgv { free(p) } }
        let rc = posix_spawn(&pid, exe, &actions, &attributes, cArgv, environ)
        guard rc == 0 else { throw AgentFailure.spawn("the fence keeper: \(String(cString: strerror(rc)))") }
        return pid
    }

    private static func isAgent(_ pid: Int32) -> Bool {
        pid > 1 && kill(pid, 0) == 0 && commandLine(of: pid).contains("karst-agent")
    }

    /// Process `pid`'s command line, its arguments joined by spaces; "" when it has none.
    static func commandLine(of pid: Int32) -> String {
        guard pid > 1, let text = ProcessBackend.readProcFile("/proc/\(pid)/cmdline") else { return "" }
        return String(text.map { $0 == "\0" ? " " : $0 })
    }

    private static func log(_ message: String) {
        FileHandle.standardError.write(Data("karst-agent fence-keeper: \(message)\n".utf8))
    }
}
