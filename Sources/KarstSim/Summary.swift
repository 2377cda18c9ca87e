import KarstCore

/// Renders a replay's outcome as plain-text tables: where each class of work went, how long it
/// waited, and what it cost per site.
public struct Summary: Sendable {
    public let result: ReplayResult

    public init(_ result: ReplayResult) { self.result = result }

    public var text: String {
        let t = result.topology
        let classes = t.classes.map(\.id)
        let dcs = t.datacenters.map(\.id)
        var placedBy: [String: [String: Int]] = [:]
        var waits: [String: [Double]] = [:]
        var energy: [String: (kWh: Double, cny: Double, kg: Double)] = [:]
        for r in result.records.values {
            if let w = r.waitSeconds { waits[r.priorityClass, default: []].append(w) }
            guard let p = r.placement else { continue }
            let dc = dcs[p.datacenter]
            placedBy[r.priorityClass, default: [:]][dc, default: 0] += 1
            if let e = r.estimate {
                let old = energy[dc] ?? (0, 0, 0)
                energy[dc] = (old.kWh + e.energyKWh, old.cny + e.costCNY, old.kg + e.carbonKg)
            }
        }
        var rows = [["class"] + dcs + ["pending", "wait p50", "wait p95"]]
        for c in classes {
            let w = (waits[c] ?? []).sorted()
            let pending = result.records.values.filter { $0.priorityClass == c && $0.startedAt == nil }.count
            rows.append([c] + dcs.map { String(placedBy[c]?[$0] ?? 0) }
                + [String(pending), duration(percentile(w, 0.5)), duration(percentile(w, 0.95))])
        }
        var out = "Where each class of work went (jobs started per data centre):\n" + table(rows)
        var site = [["data centre", "energy kWh", "cost CNY", "carbon kg"]]
        for dc in dcs {
            let e = energy[dc] ?? (0, 0, 0)
            site.append([dc, fixed(e.kWh), fixed(e.cny), fixed(e.kg)])
        }
        out += "\nEstimated energy, cost and carbon of the work started, per site:\n" + table(site)
        out += "\n\(result.records.count) jobs accepted, \(result.rejected.count) rejected, "
            + "\(result.passes) scheduling passes"
        if let end = result.end { out += ", simulated until \(end.rfc3339)" }
        return out + "\n"
    }
}

func percentile(_ sorted: [Double], _ p: Double) -> Double? {
    guard !sorted.isEmpty else { return nil }
    let i = min(sorted.count - 1, Int((Double(sorted.count - 1) * p).rounded()))
    return sorted[i]
}

func duration(_ s: Double?) -> String {
    guard let s else { return "-" }
    if s < 60 { return "\(Int(s.rounded()))s" }
    if s < 3600 { return "\(Int((s / 60).rounded()))m" }
    return "\(Int(s / 3600))h\(Int((s.truncatingRemainder(dividingBy: 3600) / 60).rounded()))m"
}

func fixed(_ v: Double) -> String {
    let r = (v * 10).rounded() / 10
    return r == r.rounded() ? "\(Int(r))" : "\(r)"
}

/// A left-aligned first column, right-aligned others, two spaces apart.
func table(_ rows: [[String]]) -> String {
    guard let cols = rows.first?.count else { return "" }
    let widths = (0..<cols).map { c in rows.map { $0[c].count }.max() ?? 0 }
    return rows.map { row in
        row.enumerated().map { c, cell in
            let pad = String(repeating: " ", count: widths[c] - cell.count)
            return c == 0 ? cell + pad : pad + cell
        }.joined(separator: "  ")
    }.joined(separator: "\n") + "\n"
}
