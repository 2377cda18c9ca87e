import KarstCore

/// Writes records in the cluster-log CSV layout: the header, then one line per record with every
/// column of `ClusterLogColumn` (empty where a record has no value).
public struct ClusterLogWriter: Sendable {
    public var time: TraceTime

    public init(time: TraceTime = TraceTime()) { self.time = time }

    /// The header line, without its newline.
    public var header: String { ClusterLogColumn.header }

    /// One record as a CSV line, without its newline.
    public func line(_ r: TraceRecord) -> String {
        let fields: [String] = [
            csvField(r.jobID), csvField(r.user), csvField(r.tenant), String(r.accelerators), traceNumber(r.cpus),
            String(r.nodes), r.outcome.rawValue, time.format(r.submitTime),
            r.startTime.map(time.format) ?? "", r.endTime.map(time.format) ?? "",
            traceNumber(r.durationSeconds), r.queueSeconds.map(traceNumber) ?? "",
            csvField(r.origin ?? ""), csvField(r.priorityClass ?? ""), r.priority.map(String.init) ?? "",
            r.memoryGiB.map(traceNumber) ?? "", csvField(r.acceleratorModel ?? ""),
            r.maxLatencyMs.map(traceNumber) ?? "", r.flexWindowSeconds.map(traceNumber) ?? "",
            r.maxRetries.map(String.init) ?? "", r.failedRuns.map(String.init) ?? "",
        ]
        return fields.joined(separator: ",")
    }

    /// Header and every record, newline-terminated.
    public func text(_ records: [TraceRecord]) -> String {
        var out = header + "\n"
        for r in records { out += line(r) + "\n" }
        return out
    }
}

/// A number as trace files write it: whole numbers without a fraction, others at most 3 decimals.
public func traceNumber(_ v: Double) -> String {
    if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
    let r = (v * 1000).rounded() / 1000
    return r == r.rounded() && abs(r) < 1e15 ? String(Int64(r)) : String(r)
}
