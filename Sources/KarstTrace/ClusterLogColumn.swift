/// The columns of a cluster log, in the order the writer puts them: Helios's twelve
/// (`cluster_log.csv`), then Karst's extension columns (docs/TRACES.md).
public enum ClusterLogColumn: String, CaseIterable, Sendable {
    case jobID = "job_id"
    case user
    case vc
    case gpuNum = "gpu_num"
    case cpuNum = "cpu_num"
    case nodeNum = "node_num"
    case state
    case submitTime = "submit_time"
    case startTime = "start_time"
    case endTime = "end_time"
    case duration
    case queue
    // Karst extension columns.
    case origin
    case priorityClass = "priority_class"
    case priority
    case memoryGiB = "memory_gib"
    case acceleratorModel = "accelerator_model"
    case maxLatencyMs = "max_latency_ms"
    case flexWindow = "flex_window_s"
    case maxRetries = "max_retries"
    case failedRuns = "failed_runs"

    /// The header line a writer emits.
    public static var header: String { allCases.map(\.rawValue).joined(separator: ",") }
}
