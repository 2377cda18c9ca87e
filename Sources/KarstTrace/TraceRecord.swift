import KarstCore

/// One job of a workload trace as the trace files hold it: the Helios `cluster_log.csv` columns
/// plus Karst's extension columns (docs/TRACES.md). Totals are over the whole job (all nodes);
/// times are whole seconds. Readers fill what their format has; writers write every column.
public struct TraceRecord: Hashable, Sendable {
    /// `job_id`.
    public var jobID: String
    /// `user`.
    public var user: String
    /// `vc`, the virtual cluster; Karst's tenant.
    public var tenant: String
    /// `gpu_num`: accelerators over all nodes.
    public var accelerators: Int
    /// `cpu_num`: cores over all nodes.
    public var cpus: Double
    /// `node_num`: Karst's replicas (a gang).
    public var nodes: Int
    /// `state`: how the job ended in the trace.
    public var outcome: TraceOutcome
    /// `submit_time`.
    public var submitTime: Instant
    /// `start_time`, `end_time`, `queue`: what the recorded scheduler did; informational on replay.
    public var startTime: Instant?
    public var endTime: Instant?
    public var queueSeconds: Double?
    /// `duration`: run time in seconds.
    public var durationSeconds: Double

    // Karst extension columns; nil where a trace does not say.
    /// `origin`: demand region id.
    public var origin: String?
    /// `priority_class`.
    public var priorityClass: String?
    /// `priority` within the class.
    public var priority: Int?
    /// `memory_gib` over all nodes.
    public var memoryGiB: Double?
    /// `accelerator_model`; any model when nil.
    public var acceleratorModel: String?
    /// `max_latency_ms`: the latency budget from the origin.
    public var maxLatencyMs: Double?
    /// `flex_window_s`: how long after submission the job may still start (time-shiftable work).
    public var flexWindowSeconds: Double?
    /// `max_retries`.
    public var maxRetries: Int?
    /// `failed_runs`: runs that fail before one succeeds.
    public var failedRuns: Int?

    public init(jobID: String, user: String = "", tenant: String = "", accelerators: Int = 0, cpus: Double,
                nodes: Int = 1, outcome: TraceOutcome = .completed, submitTime: Instant,
                startTime: Instant? = nil, endTime: Instant? = nil, queueSeconds: Double? = nil,
                durationSeconds: Double) {
        self.jobID = jobID
        self.user = user
        self.tenant = tenant
        self.accelerators = accelerators
        self.cpus = cpus
        self.nodes = nodes
        self.outcome = outcome
        self.submitTime = submitTime
        self.startTime = startTime
        self.endTime = endTime
        self.queueSeconds = queueSeconds
        self.durationSeconds = durationSeconds
    }
}

/// How a job ended in the trace: Helios's five states, plus the two a live export can hold.
public enum TraceOutcome: String, Hashable, Sendable, CaseIterable {
    case completed = "COMPLETED"
    case failed = "FAILED"
    case cancelled = "CANCELLED"
    case timeout = "TIMEOUT"
    case nodeFail = "NODE_FAIL"
    /// Still running when exported; `duration` is its expected (or elapsed) run time.
    case running = "RUNNING"
    /// Still waiting when exported.
    case pending = "PENDING"

    /// Every run of such a job fails (its retries too).
    public var isFailure: Bool { self == .failed || self == .timeout || self == .nodeFail }
}
