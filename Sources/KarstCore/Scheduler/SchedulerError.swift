/// Why the scheduler refused a command. Each case maps to one named protocol error.
public enum SchedulerError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A spec field is malformed (`io.karst.Scheduler.InvalidJob`).
    case invalidJob(field: String, reason: String)
    /// No data centre could ever hold the job (`io.karst.Scheduler.Unschedulable`).
    case unschedulable(reason: String)
    /// The job alone exceeds its tenant's quota (`io.karst.Scheduler.QuotaExceeded`).
    case quotaExceeded(tenant: String, resource: String)
    /// No job has this id (`io.karst.Scheduler.NoSuchJob`).
    case noSuchJob(id: String)
    /// The command does not apply to a job in this state (`io.karst.Scheduler.InvalidTransition`).
    case invalidTransition(id: JobID, state: JobState)
    /// No data centre has this id (`io.karst.Admin.NoSuchDatacenter`).
    case noSuchDatacenter(String)
    /// A site agent's connection or report is refused: `reason` says why and what it must do.
    case agentRefused(agent: String, reason: String)

    public var description: String {
        switch self {
        case .invalidJob(let field, let reason): "invalid job: \(field): \(reason)"
        case .unschedulable(let reason): "unschedulable: \(reason)"
        case .quotaExceeded(let tenant, let resource): "quota exceeded: tenant \(tenant), \(resource)"
        case .noSuchJob(let id): "no such job: \(id)"
        case .invalidTransition(let id, let state): "\(id) is \(state.rawValue); the command does not apply"
        case .noSuchDatacenter(let dc): "no such data centre: \(dc)"
        case .agentRefused(let agent, let reason): "agent \(agent) refused: \(reason)"
        }
    }
}
