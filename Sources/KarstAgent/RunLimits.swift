import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// How the process backend holds a run to the cores and memory its job asked for, chosen once
/// when the agent starts, the strongest the machine allows:
///
/// - **cgroup v2** (`cpu` and `memory` controllers delegated to the agent's own cgroup, e.g. by
///   systemd's `Delegate=yes`): each run gets a child cgroup, `run-JOB.ATTEMPT`, with `cpu.max`
///   (its cores as a quota per 100 ms period), `memory.max` (its memory) and `memory.swap.max` 0;
///   the run's shell moves itself in before it starts the command, so every process of the run
///   is inside. The agent itself moves to a `supervisor` leaf (cgroup v2 puts no process in a
///   cgroup that has controllers enabled for its children). A run the kernel killed for memory
///   is reported as such (`memory.events`).
/// - **rlimits** otherwise (cgroup v1, or v2 without those controllers, as on hybrid hosts): the
///   run's data segment is limited to its memory (`RLIMIT_DATA`, which counts heap and private
///   mappings, unlike `RLIMIT_AS`, which would also count reserved address space); **CPU is
///   not enforced**: no rlimit caps a rate.
///
/// The choice and each run's limits are logged and reported with the run's start (`karstctl
/// get` shows them).
public struct RunLimits: Sendable {
    public enum Mode: Sendable, Equatable {
        /// cgroup v2 at this directory (the agent's cgroup, parent of the runs' cgroups).
        case cgroup(String)
        case rlimits
    }

    public let mode: Mode
    /// Why this mode (what was found), for the agent's log.
    public let why: String

    /// The cgroup directory of the runs, in cgroup mode.
    public var cgroupDirectory: String? { if case .cgroup(let dir) = mode { dir } else { nil } }

    /// Detects what the machine allows; with `cgroups: false`, rlimits whatever it allows.
    public static func detect(cgroups: Bool = true) -> RunLimits {
        guard cgroups else { return RunLimits(mode: .rlimits, why: "cgroups turned off (--no-cgroups)") }
        switch Self.delegatedCgroup() {
        case .success(let dir): return RunLimits(mode: .cgroup(dir), why: "cgroup v2 with cpu and memory at \(dir)")
        case .failure(let why): return RunLimits(mode: .rlimits, why: why.reason)
        }
    }

    private struct NoCgroup: Error { var reason: String }

    /// The agent's own cgroup v2 directory, made ready to hold runs' cgroups: cpu and memory
    /// enabled for its children, the agent itself moved to a `supervisor` leaf.
    private static func delegatedCgroup() -> Result<String, NoCgroup> {
        guard let mounts = try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8),
              let own = try? String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8)
        else { return .failure(NoCgroup(reason: "/proc is not readable")) }
        // mountinfo: "... MOUNTPOINT OPTIONS ... - FSTYPE SOURCE SUPER"; the unified hierarchy's
        // own line in /proc/self/cgroup is "0::/PATH".
        let root = mounts.split(separator: "\n").lazy.compactMap { line -> String? in
            let halves = line.components(separatedBy: " - ")
            guard halves.count == 2, halves[1].hasPrefix("cgroup2 ") else { return nil }
            let fields = halves[0].split(separator: " ")
            return fields.count > 4 ? String(fields[4]) : nil
        }.first
        guard let root else { return .failure(NoCgroup(reason: "no cgroup v2 hierarchy is mounted")) }
        guard let path = own.split(separator: "\n").first(where: { $0.hasPrefix("0::") }).map({ String($0.dropFirst(3)) })
        else { return .failure(NoCgroup(reason: "the agent is in no cgroup v2 group")) }
        var dir = root + (path == "/" ? "" : path)
        if dir.hasSuffix("/supervisor") { dir = String(dir.dropLast("/supervisor".count)) }  // a restarted agent
        let controllers = (try? String(contentsOfFile: dir + "/cgroup.controllers", encoding: .utf8)) ?? ""
        let available = Set(controllers.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init))
        guard available.isSuperset(of: ["cpu", "memory"]) else {
            return .failure(NoCgroup(reason: "cgroup v2 at \(dir) has no cpu and memory controllers for the agent "
                + "(found: \(available.sorted().joined(separator: " ")); cgroup v1 or a hybrid host)"))
        }
        guard access(dir, W_OK) == 0 else {
            return .failure(NoCgroup(reason: "cgroup v2 at \(dir) is not writable by the agent (systemd: Delegate=yes)"))
        }
        let supervisor = dir + "/supervisor"
        do {
            try FileManager.default.createDirectory(atPath: supervisor, withIntermediateDirectories: true)
            try write("0", to: supervisor + "/cgroup.procs")
            try write("+cpu +memory", to: dir + "/cgroup.subtree_control")
        } catch {
            return .failure(NoCgroup(reason: "cgroup v2 at \(dir) cannot be delegated: \(error)"))
        }
        return .success(dir)
    }

    /// What one run is held to, as its shell applies it: a cgroup to move into, or a data limit.
    public struct Applied: Sendable {
        /// The run's cgroup directory, when cgroups are used.
        public var cgroup: String?
        /// `ulimit -d` in KiB, when rlimits are used.
        public var dataKiB: Int?
        /// Said in the log and in the run's start report.
        public var description: String
    }

    /// Prepares run `name` (JOB.ATTEMPT) for `cores` and `memoryGiB`: its cgroup made and set, or
    /// its rlimit computed. Zero memory or cores means not limited in that resource.
    public func prepare(_ name: String, cores: Double, memoryGiB: Double) throws -> Applied {
        let bytes = memoryGiB.isFinite ? Int(min(max(memoryGiB, 0), 1_048_576) * 1_073_741_824) : 0
        switch mode {
        case .cgroup(let dir):
            let cg = dir + "/run-" + name
            try FileManager.default.createDirectory(atPath: cg, withIntermediateDirectories: true)
            let quota = cores > 0 ? "\(max(1_000, Int(cores * 100_000))) 100000" : "max 100000"
            try Self.write(quota, to: cg + "/cpu.max")
            try Self.write(bytes > 0 ? "\(bytes)" : "max", to: cg + "/memory.max")
            try? Self.write("0", to: cg + "/memory.swap.max")
            return Applied(cgroup: cg, description: "cgroup v2 \(cg): cpu.max \(quota), memory.max \(bytes > 0 ? "\(bytes)" : "max")")
        case .rlimits:
            guard bytes > 0 else { return Applied(description: "rlimits: none (no memory asked); cpu not enforced") }
            return Applied(dataKiB: bytes / 1024,
                           description: "rlimits: RLIMIT_DATA \(bytes / 1_048_576) MiB; cpu not enforced (no cgroup v2 cpu controller)")
        }
    }

    /// Kills every process of run `name` (cgroup mode; nothing otherwise).
    public func killAll(_ name: String) {
        guard case .cgroup(let dir) = mode else { return }
        try? Self.write("1", to: dir + "/run-" + name + "/cgroup.kill")
    }

    /// Whether the kernel killed a process of run `name` for want of memory.
    public func killedForMemory(_ name: String) -> Bool {
        guard case .cgroup(let dir) = mode,
              let events = try? String(contentsOfFile: dir + "/run-" + name + "/memory.events", encoding: .utf8)
        else { return false }
        return events.split(separator: "\n").contains { $0.hasPrefix("oom_kill ") && $0 != "oom_kill 0" }
    }

    /// Removes run `name`'s cgroup once it is empty.
    public func release(_ name: String) {
        guard case .cgroup(let dir) = mode else { return }
        rmdir(dir + "/run-" + name)
    }

    static func write(_ text: String, to path: String) throws {
        let fd = open(path, O_WRONLY)
        guard fd >= 0 else { throw AgentFailure.limits("\(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let n = text.withCString { Glibc.write(fd, $0, strlen($0)) }
        guard n >= 0 else { throw AgentFailure.limits("\(path): \(String(cString: strerror(errno)))") }
    }
}
