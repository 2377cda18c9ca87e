import KarstCore

/// Writes records as a Standard Workload Format log. SWF has no accelerators, origins or classes:
/// accelerator counts are dropped (the header says how many jobs had some), classes go into the
/// queue field, origins into the partition field and tenants into the group field, each named in a
/// `; Karst-…:` header line that `SWFReader` reads back.
public struct SWFWriter: Sendable {
    public init() {}

    public func text(_ records: [TraceRecord], comments: [String] = []) -> String {
        let zero = records.map(\.submitTime).min() ?? Instant(microseconds: 0)
        var classes = Numbering(), origins = Numbering(), groups = Numbering(), users = Numbering()
        var lines: [String] = []
        lines.reserveCapacity(records.count)
        for (i, r) in records.enumerated() {
            let procs = max(1, Int(r.cpus.rounded(.up)))
            let memoryKB = r.memoryGiB.map { Int(($0 * 1024 * 1024 / Double(procs)).rounded(.up)) } ?? -1
            let status = r.outcome.isFailure ? 0 : (r.outcome == .cancelled ? 5 : 1)
            let fields = [
                i + 1, Int(zero.seconds(to: r.submitTime).rounded(.down)), r.queueSeconds.map { Int($0) } ?? -1,
                Int(r.durationSeconds.rounded()), -1, -1, -1, procs, -1, memoryKB, status,
                users.number(r.user), groups.number(r.tenant), -1,
                classes.number(r.priorityClass ?? ""), origins.number(r.origin ?? ""), -1, -1,
            ]
            lines.append(fields.map(String.init).joined(separator: " "))
        }
        var out = "; Version: 2.2\n"
        out += "; UnixStartTime: \(zero.microseconds / 1_000_000)\n"
        for c in comments { out += "; \(c)\n" }
        let accelerated = records.filter { $0.accelerators > 0 }.count
        if accelerated > 0 { out += "; Note: SWF has no accelerator field; \(accelerated) jobs asked for accelerators\n" }
        out += "; Karst-Queues: \(classes.header)\n; Karst-Partitions: \(origins.header)\n"
        out += "; Karst-Groups: \(groups.header)\n"
        return out + lines.joined(separator: "\n") + (lines.isEmpty ? "" : "\n")
    }
}

/// Numbers names 1, 2, … in first-seen order; the empty name is −1 (unknown).
struct Numbering {
    var names: [String] = []
    var index: [String: Int] = [:]

    mutating func number(_ name: String) -> Int {
        if name.isEmpty { return -1 }
        if let n = index[name] { return n }
        names.append(name)
        index[name] = names.count
        return names.count
    }

    var header: String { names.enumerated().map { "\($0 + 1)=\($1)" }.joined(separator: " ") }
}
