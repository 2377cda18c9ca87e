import KarstCore

/// The trace formats Karst reads and writes.
public enum TraceFormat: String, Sendable, CaseIterable {
    /// The Helios `cluster_log.csv` layout with Karst's extension columns.
    case csv
    /// The Parallel Workloads Archive's Standard Workload Format.
    case swf

    /// Guesses the format from the first line that is not blank: SWF starts with `;` comments or
    /// holds whitespace-separated numbers; anything else is read as CSV.
    public static func detect(_ bytes: [UInt8]) -> TraceFormat {
        for (_, text) in TextLines(bytes: bytes) {
            let line = text.trimmingSpaces
            if line.isEmpty { continue }
            if line.hasPrefix(";") { return .swf }
            let parts = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            return parts.count > 1 && parts.allSatisfy({ Double($0) != nil }) ? .swf : .csv
        }
        return .csv
    }

    /// Reads `bytes` in this format. `start` is SWF's time zero when its header has none.
    public func read(_ bytes: [UInt8], policy: BadLinePolicy, time: TraceTime = TraceTime(),
                     start: Instant) throws(TraceLineError) -> TraceReadResult {
        switch self {
        case .csv: try ClusterLogReader(time: time, policy: policy).read(bytes)
        case .swf: try SWFReader(start: start, policy: policy).read(bytes)
        }
    }
}
