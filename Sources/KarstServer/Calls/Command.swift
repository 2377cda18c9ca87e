import KarstCore
import KarstProtocol

/// A call for the engine, decoded: its parameters read, mapped to the core's types and checked
/// against their bounds (`CallBounds`, `SpecBounds` at submit), before it reaches the engine
/// thread. What needs the state (does the job exist, may this caller touch it) is the engine's.
public enum Command: Sendable {
    // io.karst.Scheduler
    case submit(JobSpec, dryRun: Bool)
    case submitBatch([JobSpec], brief: Bool)
    case get(JobID)
    case list(ListQuery)
    case cancel(JobID)
    case hold(JobID)
    case release(JobID)
    case complete(JobID, succeeded: Bool, message: String?)
    case watch(WatchFilter)
    // io.karst.Admin
    case topology
    case drain(datacenter: String, stopRuns: Bool)
    case resume(datacenter: String)
    case setOffline(datacenter: String)
    case stats
    case reload
    case metrics
    case agents
    case backup(path: String)
    // io.karst.Agent
    /// `epoch` (each agent call): the largest leader epoch the agent has seen (replicas only).
    case agentConnect(agent: String, datacenter: String, backend: String, host: String?, epoch: UInt64?)
    case agentHeartbeat(agent: String, session: UInt64, epoch: UInt64?)
    case agentStarted(session: UInt64, run: RunID, place: RunPlace, epoch: UInt64?)
    case agentEnded(agent: String, session: UInt64, run: RunID, outcome: AgentBook.RunOutcome, epoch: UInt64?)

    /// `List`'s and `ListSummaries`' filters and page, and which of the two answers.
    public struct ListQuery: Sendable {
        public var state: JobState?
        public var tenant: String?
        public var datacenter: String?
        /// The cursor: only jobs after this id.
        public var after: JobID?
        public var limit: Int
        /// Answer with each job's `JobSummary` (`ListSummaries`) instead of the whole `Job`.
        public var summaries = false
    }

    /// Which events a `Watch` streams: of these jobs (nil: any), of this tenant (nil: any).
    public struct WatchFilter: Sendable {
        public var ids: Set<JobID>?
        public var tenant: String?
    }

    /// Whether the call, if it succeeds, changes stored state: such calls are acknowledged only
    /// after their batch's commit, and refused while the store cannot be written.
    public var mutates: Bool {
        switch self {
        case .submit(_, let dryRun): !dryRun
        case .submitBatch, .cancel, .hold, .release, .complete, .drain, .resume, .setOffline, .reload, .agentStarted,
             .agentEnded: true
        case .get, .list, .watch, .topology, .stats, .metrics, .agents, .backup, .agentConnect, .agentHeartbeat: false
        }
    }

    /// The method's full name (for metrics and logs).
    public var method: String {
        switch self {
        case .submit: SchedulerInterface.Submit.name
        case .submitBatch: SchedulerInterface.SubmitBatch.name
        case .get: SchedulerInterface.Get.name
        case .list(let q): q.summaries ? SchedulerInterface.ListSummaries.name : SchedulerInterface.List.name
        case .cancel: SchedulerInterface.Cancel.name
        case .hold: SchedulerInterface.Hold.name
        case .release: SchedulerInterface.Release.name
        case .complete: SchedulerInterface.Complete.name
        case .watch: SchedulerInterface.Watch.name
        case .topology: AdminInterface.Topology.name
        case .drain: AdminInterface.Drain.name
        case .resume: AdminInterface.Resume.name
        case .setOffline: AdminInterface.SetOffline.name
        case .stats: AdminInterface.Stats.name
        case .reload: AdminInterface.Reload.name
        case .metrics: AdminInterface.Metrics.name
        case .agents: AdminInterface.Agents.name
        case .backup: AdminInterface.Backup.name
        case .agentConnect: AgentInterface.Connect.name
        case .agentHeartbeat: AgentInterface.Heartbeat.name
        case .agentStarted: AgentInterface.Started.name
        case .agentEnded: AgentInterface.Ended.name
        }
    }

    /// Whether the call is a site agent's (`io.karst.Agent`): all a remote agent may make.
    public var isAgentCall: Bool {
        switch self {
        case .agentConnect, .agentHeartbeat, .agentStarted, .agentEnded: true
        default: false
        }
    }

    /// Whether the call's replies stream (`Watch`, an agent's `Connect`).
    public var streams: Bool {
        switch self {
        case .watch, .agentConnect: true
        default: false
        }
    }
}
