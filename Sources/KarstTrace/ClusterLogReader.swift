import KarstCore

/// Reads a CSV in the Helios `cluster_log.csv` layout. Columns are found by the header's names, in
/// any order; unknown columns are ignored, Karst's extension columns are optional. A bad line is
/// reported with its number; `policy` says whether the read stops or skips it.
public struct ClusterLogReader: Sendable {
    public var time: TraceTime
    public var policy: BadLinePolicy

    public init(time: TraceTime = TraceTime(), policy: BadLinePolicy = .stop) {
        self.time = time
        self.policy = policy
    }

    public func read(_ bytes: [UInt8]) throws(TraceLineError) -> TraceReadResult {
        var collector = RecordCollector(policy: policy)
        var columns: [ClusterLogColumn: Int]? = nil
        for (number, text) in TextLines(bytes: bytes) {
            if text.isEmpty || text.hasPrefix("#") { continue }
            guard let cols = columns else {
                columns = try header(text, line: number)
                continue
            }
            try collector.add(line: number) { () throws(TraceLineError) in try record(text, cols) }
        }
        if columns == nil { throw TraceLineError(line: 1, "no header line (expected \(ClusterLogColumn.header))") }
        return collector.result
    }

    func header(_ text: String, line: Int) throws(TraceLineError) -> [ClusterLogColumn: Int] {
        var map: [ClusterLogColumn: Int] = [:]
        let names = try csvFields(text)
        for (i, name) in names.enumerated() {
            let key = name.trimmingSpaces.lowercased()
            guard let c = ClusterLogColumn(rawValue: key) else { continue }
            if map[c] != nil { throw TraceLineError(line: line, "column \(key) appears twice") }
            map[c] = i
        }
        for required in [ClusterLogColumn.jobID, .submitTime] where map[required] == nil {
            throw TraceLineError(line: line, "the header has no \(required.rawValue) column")
        }
        if map[.duration] == nil && (map[.startTime] == nil || map[.endTime] == nil) {
            throw TraceLineError(line: line, "the header has no duration column (nor start_time and end_time)")
        }
        if map[.cpuNum] == nil && map[.gpuNum] == nil {
            throw TraceLineError(line: line, "the header has neither cpu_num nor gpu_num")
        }
        return map
    }

    func record(_ text: String, _ cols: [ClusterLogColumn: Int]) throws(TraceLineError) -> TraceRecord {
        let fields = try csvFields(text)
        let width = (cols.values.max() ?? 0) + 1
        guard fields.count >= width else {
            throw TraceLineError(line: 0, "\(fields.count) fields, the header has at least \(width)")
        }
        let f = FieldReader(fields: fields, columns: cols, time: time)
        let submit = try f.time(.submitTime, required: true)!
        let start = try f.time(.startTime), end = try f.time(.endTime)
        var duration = try f.double(.duration)
        if duration == nil, let start, let end { duration = start.seconds(to: end) }
        guard let duration else { throw TraceLineError(line: 0, "duration: missing") }
        guard duration >= 0 else { throw TraceLineError(line: 0, "duration: must be ≥ 0, is \(duration)") }
        let outcomeText = f.string(.state)?.uppercased() ?? ""
        guard let outcome = outcomeText.isEmpty ? .completed : TraceOutcome(rawValue: outcomeText) else {
            throw TraceLineError(line: 0, "state: unknown '\(outcomeText)' (known: "
                + TraceOutcome.allCases.map(\.rawValue).joined(separator: ", ") + ")")
        }
        guard let id = f.string(.jobID) else { throw TraceLineError(line: 0, "job_id: missing") }
        var r = TraceRecord(
            jobID: id, user: f.string(.user) ?? "", tenant: f.string(.vc) ?? "",
            accelerators: try f.int(.gpuNum, min: 0) ?? 0, cpus: try f.double(.cpuNum) ?? 0,
            nodes: max(1, try f.int(.nodeNum, min: 0) ?? 1), outcome: outcome, submitTime: submit,
            startTime: start, endTime: end, queueSeconds: try f.double(.queue), durationSeconds: duration)
        guard r.cpus >= 0 else { throw TraceLineError(line: 0, "cpu_num: must be ≥ 0") }
        r.origin = f.string(.origin)
        r.priorityClass = f.string(.priorityClass)
        r.priority = try f.int(.priority, min: Int.min)
        r.memoryGiB = try f.double(.memoryGiB)
        r.acceleratorModel = f.string(.acceleratorModel)
        r.maxLatencyMs = try f.double(.maxLatencyMs)
        r.flexWindowSeconds = try f.double(.flexWindow)
        r.maxRetries = try f.int(.maxRetries, min: 0)
        r.failedRuns = try f.int(.failedRuns, min: 0)
        for (c, v) in [(ClusterLogColumn.memoryGiB, r.memoryGiB), (.maxLatencyMs, r.maxLatencyMs),
                       (.flexWindow, r.flexWindowSeconds)] {
            if let v, v < 0 { throw TraceLineError(line: 0, "\(c.rawValue): must be ≥ 0, is \(v)") }
        }
        return r
    }
}

/// Typed access to one line's fields by column; an empty field is nil.
struct FieldReader {
    let fields: [Substring]
    let columns: [ClusterLogColumn: Int]
    let time: TraceTime

    func raw(_ c: ClusterLogColumn) -> Substring? {
        guard let i = columns[c], i < fields.count else { return nil }
        let v = fields[i].trimmingSpaces
        return v.isEmpty ? nil : v
    }

    func string(_ c: ClusterLogColumn) -> String? { raw(c).map(String.init) }

    func double(_ c: ClusterLogColumn) throws(TraceLineError) -> Double? {
        guard let v = raw(c) else { return nil }
        guard let d = Double(v), d.isFinite else { throw TraceLineError(line: 0, "\(c.rawValue): not a number: '\(v)'") }
        return d
    }

    func int(_ c: ClusterLogColumn, min: Int) throws(TraceLineError) -> Int? {
        guard let v = raw(c) else { return nil }
        guard let d = Double(v), d.isFinite, d == d.rounded(), abs(d) < 1e15 else {
            throw TraceLineError(line: 0, "\(c.rawValue): not a whole number: '\(v)'")
        }
        guard Int(d) >= min else { throw TraceLineError(line: 0, "\(c.rawValue): must be ≥ \(min), is \(v)") }
        return Int(d)
    }

    func time(_ c: ClusterLogColumn, required: Bool = false) throws(TraceLineError) -> Instant? {
        guard let v = raw(c) else {
            if required { throw TraceLineError(line: 0, "\(c.rawValue): missing") }
            return nil
        }
        guard let t = time.parse(v) else {
            throw TraceLineError(line: 0, "\(c.rawValue): not a time (YYYY-MM-DD HH:MM:SS): '\(v)'")
        }
        return t
    }
}

extension Substring {
    /// Without leading and trailing spaces and tabs.
    var trimmingSpaces: Substring {
        guard let first = firstIndex(where: { $0 != " " && $0 != "\t" }) else { return self[endIndex...] }
        let last = lastIndex(where: { $0 != " " && $0 != "\t" })!
        return self[first...last]
    }
}

extension String {
    /// Without leading and trailing spaces and tabs.
    var trimmingSpaces: Substring { self[...].trimmingSpaces }
}
