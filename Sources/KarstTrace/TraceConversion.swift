import KarstCore

/// What a trace record leaves unsaid, filled in when it becomes a job (docs/TRACES.md).
public struct TraceDefaults: Sendable {
    /// Origin region for records without `origin` (SWF, plain Helios logs).
    public var origin = "local"
    /// Class for records without `priority_class`.
    public var priorityClass = "batch"
    /// GiB per core for records without `memory_gib`.
    public var memoryGiBPerCore = 4.0

    public init(origin: String = "local", priorityClass: String = "batch", memoryGiBPerCore: Double = 4) {
        self.origin = origin
        self.priorityClass = priorityClass
        self.memoryGiBPerCore = memoryGiBPerCore
    }
}

extension TraceJob {
    /// The job a trace record describes. Totals are split evenly over `node_num` replicas (rounded
    /// up); a zero duration becomes one second; a flexibility window becomes `notAfter` (latest
    /// start) and `deadline` (latest start + duration).
    public init(record r: TraceRecord, defaults: TraceDefaults) {
        let nodes = max(1, r.nodes)
        let cpus = r.cpus > 0 ? r.cpus : (r.accelerators > 0 ? 0 : 1)
        let perCPU = (cpus / Double(nodes) * 1000).rounded(.up) / 1000
        let memory = r.memoryGiB ?? cpus * defaults.memoryGiBPerCore
        let perMemory = max(memory > 0 ? 0.001 : 0, (memory / Double(nodes) * 1000).rounded(.up) / 1000)
        let perAccelerators = (r.accelerators + nodes - 1) / nodes
        var spec = JobSpec(
            name: r.jobID, tenant: r.tenant.isEmpty ? (r.user.isEmpty ? nil : r.user) : r.tenant,
            origin: r.origin ?? defaults.origin, priorityClass: r.priorityClass ?? defaults.priorityClass,
            priority: r.priority ?? 0,
            resources: ResourceRequest(cpu: perCPU, memoryGiB: perMemory, accelerators: perAccelerators,
                                       acceleratorModel: perAccelerators > 0 ? r.acceleratorModel : nil),
            replicas: nodes, durationSeconds: max(1, r.durationSeconds), maxLatencyMs: r.maxLatencyMs,
            maxRetries: r.maxRetries ?? 0)
        if let flex = r.flexWindowSeconds {
            spec.notAfter = r.submitTime.advanced(bySeconds: flex)
            spec.deadline = r.submitTime.advanced(bySeconds: flex + spec.durationSeconds!)
        }
        var cancelAfter: Double? = nil
        if r.outcome == .cancelled {
            cancelAfter = r.endTime.map { r.submitTime.seconds(to: $0) }
                ?? (r.queueSeconds ?? 0) + r.durationSeconds
        }
        self.init(submitAt: r.submitTime, spec: spec,
                  failedRuns: r.outcome.isFailure ? Int.max : (r.failedRuns ?? 0), cancelAfterSeconds: cancelAfter)
    }
}

extension TraceRecord {
    /// The trace record of a job: the inverse of `TraceJob(record:defaults:)` for jobs whose
    /// replicas are equal (`job_id` is `name`, else `number`).
    public init(job: TraceJob, number: Int) {
        let s = job.spec
        let n = Double(s.replicas)
        self.init(jobID: s.name ?? String(number), tenant: s.tenant ?? "",
                  accelerators: s.resources.accelerators * s.replicas, cpus: s.resources.cpu * n, nodes: s.replicas,
                  outcome: job.failedRuns == Int.max ? .failed : (job.cancelAfterSeconds != nil ? .cancelled : .completed),
                  submitTime: job.submitAt, durationSeconds: s.durationSeconds ?? 0)
        if let c = job.cancelAfterSeconds { endTime = job.submitAt.advanced(bySeconds: c) }
        origin = s.origin
        priorityClass = s.priorityClass
        priority = s.priority == 0 ? nil : s.priority
        memoryGiB = s.resources.memoryGiB * n
        acceleratorModel = s.resources.acceleratorModel
        maxLatencyMs = s.maxLatencyMs
        flexWindowSeconds = s.notAfter.map { job.submitAt.seconds(to: $0) }
        maxRetries = s.maxRetries == 0 ? nil : s.maxRetries
        failedRuns = job.failedRuns == 0 || job.failedRuns == Int.max ? nil : job.failedRuns
    }
}
