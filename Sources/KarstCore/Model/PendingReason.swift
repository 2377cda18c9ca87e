/// Why a pending job is not running yet. Rendered in the protocol as a short structured string
/// (`description`), e.g. `no-capacity:hw-guian/npu` or `latency:bth>15ms everywhere`.
public enum PendingReason: Hashable, Sendable, CustomStringConvertible {
    /// Higher-ranked jobs are ahead of it; the last pass did not reach it.
    case priority
    /// Its tenant's quota has no room for it in this resource (`cpu`, `memory`, `accelerators`).
    case quota(resource: String)
    /// Pools that could take it exist but are full; names the one closest to fitting.
    case noCapacity(datacenter: String, pool: String)
    /// No allowed data centre is within the latency budget of its origin.
    case latency(region: String, budgetMs: Double)
    /// No pool has the accelerator model it asks for (or any accelerator, or a general pool).
    case accelerator(model: String)
    /// Every data centre that passes its other constraints is draining or offline.
    case datacenterUnavailable
    /// Every data centre that passes its other constraints runs work on site agents, and none
    /// of their agents is live.
    case noAgent
    /// No allowed data centre has the executor the job needs (after a reconfiguration changed
    /// them: at submission such a job is refused).
    case executor(needsAgents: Bool)
    /// Held by a user or admin.
    case held
    /// Its flexibility window has not opened yet (`notBefore`).
    case window(opens: Instant)
    /// Delayed inside its window to cheaper, cleaner hours; starts at `until` if it fits.
    case shifted(until: Instant)
    /// Waits for a job it depends on to succeed.
    case dependency(on: JobID)
    /// It would fit now, but only in capacity reserved for a blocked job ahead of it that it would
    /// delay (backfill).
    case reservedFor(JobID)
    /// It preempted site agents' runs and waits for them to confirm they stopped (`stopping`
    /// runs hold their capacity until then); their capacity is held for it meanwhile.
    case preempting(stopping: Int)

    /// The reason's kind without its particulars (`no-capacity`, not `no-capacity:dc/pool`): a
    /// small fixed set, for counting pending jobs by reason (`karst_jobs_pending_by_reason`).
    public var category: String {
        switch self {
        case .priority: "priority"
        case .quota: "quota"
        case .noCapacity: "no-capacity"
        case .latency: "latency"
        case .accelerator: "accelerator"
        case .datacenterUnavailable: "datacenter-unavailable"
        case .noAgent: "no-agent"
        case .executor: "executor"
        case .held: "held"
        case .window: "window"
        case .shifted: "shifted"
        case .dependency: "dependency"
        case .reservedFor: "reserved"
        case .preempting: "preempting"
        }
    }

    /// Every `category`, for series that should exist (at zero) before any job waits.
    public static let categories = ["priority", "quota", "no-capacity", "latency", "accelerator", "datacenter-unavailable",
                                    "no-agent", "executor", "held", "window", "shifted", "dependency", "reserved", "preempting"]

    public var description: String {
        switch self {
        case .priority: "priority"
        case .quota(let r): "quota:\(r)"
        case .noCapacity(let dc, let pool): "no-capacity:\(dc)/\(pool)"
        case .latency(let region, let budget): "latency:\(region)>\(formatNumber(budget))ms everywhere"
        case .accelerator(let model): "accelerator:\(model)"
        case .datacenterUnavailable: "datacenter-unavailable"
        case .noAgent: "datacenter-unavailable:no agent"
        case .executor(let agents): agents ? "executor:needs site agents" : "executor:needs the modelled executor"
        case .held: "held"
        case .window(let opens): "window:opens \(opens.rfc3339)"
        case .shifted(let until): "window:shifted to \(until.rfc3339) (cheaper, cleaner power)"
        case .dependency(let id): "dependency:\(id)"
        case .reservedFor(let id): "reserved-for:\(id)"
        case .preempting(let n): "preempting:waiting for \(n) run\(n == 1 ? "" : "s") to stop"
        }
    }
}

/// A number as a person writes it: whole numbers without ".0" (while they are exact), others as
/// Swift prints them (`0.5`, `1e+18`, `inf`). Never traps.
public func formatNumber(_ value: Double) -> String {
    value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
}
