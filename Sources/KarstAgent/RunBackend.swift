import KarstProtocol

/// A run as its backend started it: the handle the backend finds it by again (a process group
/// id, a Slurm job id), the site's id for it as reported to the daemon, and its limits.
public struct StartedRun: Sendable, Equatable {
    /// The process group (process backend), else 0.
    public var pgid: Int32
    /// The backend's own id for the run where it is not a process group (a Slurm job id, a unit).
    public var handle: String?
    public var siteID: String
    public var limits: String?
}

/// How a run ended, as its backend found out.
public struct RunEnd: Sendable, Equatable {
    public var exitStatus: Int?
    public var message: String?
    /// The fence keeper killed it (the daemon requeues the job rather than failing it).
    public var fenced = false

    /// An end with an exit status: 0 succeeded, anything else failed with "exit status N".
    public static func exited(_ status: Int, note: String = "") -> RunEnd {
        RunEnd(exitStatus: status, message: status == 0 ? nil : "exit status \(status)" + note)
    }
}

/// What runs a site agent's leases: processes on its host (`ProcessBackend`), jobs of a Slurm
/// cluster (`SlurmBackend`), transient units of the host's systemd (`SystemdBackend`). The agent keeps the leases, reports and fence; a backend starts,
/// finds, judges and stops runs, and says where their output is.
///
/// Invariant: a run is started at most once per (job, attempt) — `startedBefore` finds a run the
/// backend already has (after an agent crash that came before the agent saved its state), and the
/// agent asks it before every `start`.
public protocol RunBackend: AnyObject, Sendable {
    /// The name `Connect` reports (`process`, `slurm`, `systemd`).
    var name: String { get }
    /// What holds runs to their resources here, for the agent's first log line.
    var limitsSummary: String { get }
    /// Arguments for the fence keeper (`karst-agent fence-keeper …`) to kill this backend's runs.
    var keeperArguments: [String] { get }
    /// Where run (job, attempt)'s output is (a path on the host that has it).
    func output(job: String, attempt: Int) -> String
    func start(_ lease: WireLease) throws -> StartedRun
    /// The run of (job, attempt) this backend already started, if any.
    func startedBefore(job: String, attempt: Int) -> StartedRun?
    /// These leases' runs are about to be looked up (`startedBefore`) and started: a backend
    /// whose lookup is costly does it for all of them at once.
    func prepare(_ leases: [WireLease])
    /// Among `runs` (running, not asked to stop), those that ended, by key (`AgentRun.key`).
    /// Called at every turn of the agent's loop; `sweep` is true once a second (a backend that
    /// polls something costly does it then).
    func ended(_ runs: [AgentRun], sweep: Bool) -> [String: RunEnd]
    /// Whether a run asked to stop is gone.
    func isGone(_ run: AgentRun) -> Bool
    /// Asks a run to end (SIGTERM, scancel).
    func terminate(_ run: AgentRun)
    /// Ends a run now (SIGKILL; scancel with KILL).
    func kill(_ run: AgentRun)
    /// Clears what the run left once its end is known (processes left in its group, a cgroup).
    func release(_ run: AgentRun)
    /// The daemon took the run's end: what was kept so that the end could not be lost (a
    /// finished unit) may go.
    func reported(_ run: AgentRun)
}

extension RunBackend {
    public func reported(_ run: AgentRun) {}
    public func prepare(_ leases: [WireLease]) {}
}
