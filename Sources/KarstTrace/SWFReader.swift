import KarstCore

/// Reads the Standard Workload Format of the Parallel Workloads Archive: `;` header comments, then
/// one job per line in 18 whitespace-separated fields (−1 = unknown).
///
/// Mapping (docs/TRACES.md): submit time (field 2) is seconds after the header's `UnixStartTime`
/// (else `start`); run time (4) is the duration; requested processors (8, else allocated, 5) are
/// cores; requested memory (10, else used, 7) is KB per processor; status (11) 0 failed, 5
/// cancelled, anything else completed; user (12) and group (13) give `u<n>` and the tenant `g<n>`.
/// Karst writes its class and origin into the queue (15) and partition (16) fields and names them in
/// `; Karst-Queues:` and `; Karst-Partitions:` header lines, and its tenants into the group field
/// (13) named in `; Karst-Groups:`; this reader honours all three.
public struct SWFReader: Sendable {
    /// Time zero when the header gives no `UnixStartTime`.
    public var start: Instant
    public var policy: BadLinePolicy

    public init(start: Instant, policy: BadLinePolicy = .stop) {
        self.start = start
        self.policy = policy
    }

    public func read(_ bytes: [UInt8]) throws(TraceLineError) -> TraceReadResult {
        var collector = RecordCollector(policy: policy)
        var zero = start
        var queues: [Int: String] = [:], partitions: [Int: String] = [:], groups: [Int: String] = [:]
        for (number, text) in TextLines(bytes: bytes) {
            let line = text.trimmingSpaces
            if line.isEmpty { continue }
            if line.hasPrefix(";") {
                let body = line.dropFirst().trimmingSpaces
                if let v = value(body, "UnixStartTime:"), let s = Int64(v) {
                    zero = Instant(microseconds: s * 1_000_000)
                } else if let v = value(body, "Karst-Queues:") {
                    queues = names(v)
                } else if let v = value(body, "Karst-Partitions:") {
                    partitions = names(v)
                } else if let v = value(body, "Karst-Groups:") {
                    groups = names(v)
                }
                continue
            }
            try collector.add(line: number) { () throws(TraceLineError) in
                try record(line, zero: zero, names: SWFNames(queues: queues, partitions: partitions, groups: groups))
            }
        }
        return collector.result
    }

    private func value(_ body: Substring, _ key: String) -> Substring? {
        body.hasPrefix(key) ? body.dropFirst(key.count).trimmingSpaces : nil
    }

    /// `1=critical 2=online` → [1: "critical", 2: "online"].
    private func names(_ text: Substring) -> [Int: String] {
        var out: [Int: String] = [:]
        for pair in text.split(separator: " ") {
            let kv = pair.split(separator: "=", maxSplits: 1)
            if kv.count == 2, let k = Int(kv[0]) { out[k] = String(kv[1]) }
        }
        return out
    }

    func record(_ line: Substring, zero: Instant, names: SWFNames) throws(TraceLineError) -> TraceRecord {
        let parts = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard parts.count == 18 else { throw TraceLineError(line: 0, "\(parts.count) fields, SWF has 18") }
        var v: [Double] = []
        v.reserveCapacity(18)
        for (i, p) in parts.enumerated() {
            guard let d = Double(p), d.isFinite else {
                throw TraceLineError(line: 0, "field \(i + 1) (\(Self.fieldNames[i])): not a number: '\(p)'")
            }
            v.append(d)
        }
        func known(_ i: Int) -> Double? { v[i - 1] >= 0 ? v[i - 1] : nil }
        guard let submit = known(2) else { throw TraceLineError(line: 0, "field 2 (submit time): unknown") }
        guard let run = known(4) else { throw TraceLineError(line: 0, "field 4 (run time): unknown") }
        guard let procs = known(8).flatMap({ $0 > 0 ? $0 : nil }) ?? known(5).flatMap({ $0 > 0 ? $0 : nil }) else {
            throw TraceLineError(line: 0, "fields 8 and 5 (requested and allocated processors): unknown")
        }
        let submitAt = zero.advanced(bySeconds: submit)
        let outcome: TraceOutcome = switch Int(v[10]) { case 0: .failed; case 5: .cancelled; default: .completed }
        var r = TraceRecord(
            jobID: String(Int(v[0])), user: known(12).map { "u\(Int($0))" } ?? "",
            tenant: known(13).map { names.groups[Int($0)] ?? "g\(Int($0))" } ?? "", cpus: procs, outcome: outcome,
            submitTime: submitAt, startTime: known(3).map { submitAt.advanced(bySeconds: $0) },
            queueSeconds: known(3), durationSeconds: run)
        r.endTime = r.startTime?.advanced(bySeconds: run)
        if let kb = known(10).flatMap({ $0 > 0 ? $0 : nil }) ?? known(7).flatMap({ $0 > 0 ? $0 : nil }) {
            r.memoryGiB = kb * procs / (1024 * 1024)
        }
        if let q = known(15) { r.priorityClass = names.queues[Int(q)] }
        if let p = known(16) { r.origin = names.partitions[Int(p)] }
        return r
    }

    static let fieldNames = [
        "job number", "submit time", "wait time", "run time", "allocated processors", "average CPU time",
        "used memory", "requested processors", "requested time", "requested memory", "status", "user id",
        "group id", "executable", "queue", "partition", "preceding job", "think time",
    ]
}

/// The numbers of SWF's queue, partition and group fields, named by Karst's header lines.
struct SWFNames {
    var queues: [Int: String] = [:]
    var partitions: [Int: String] = [:]
    var groups: [Int: String] = [:]
}
