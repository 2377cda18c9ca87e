import KarstCore
import KarstTrace

/// Renders one replay, or two side by side (A, B and the difference), as plain-text tables.
public struct TextReport: Sendable {
    public let runs: [ReplaySummary]

    public init(_ runs: [ReplaySummary]) { self.runs = runs }

    public var text: String {
        let t = ReportTables(runs)
        var out = t.description.map { $0 + "\n" }.joined()
        for section in t.sections { out += "\n\(section.title):\n" + textTable(section.rows) }
        return out
    }
}

/// The report's tables as rows of cells, shared by the text and HTML renderings.
struct ReportTables {
    let runs: [ReplaySummary]

    init(_ runs: [ReplaySummary]) { self.runs = runs }

    /// Lines saying what was replayed under which changes.
    var description: [String] {
        var out: [String] = []
        for (i, r) in runs.enumerated() {
            let tag = runs.count > 1 ? "\(letter(i)): " : ""
            out.append("\(tag)\(r.label) — \(TraceTime().format(r.start)) → \(TraceTime().format(r.end)) local, "
                + "\(Format.fixed(r.start.seconds(to: r.end) / 3600, 1)) h simulated, \(Format.fixed(Double(r.jobs))) jobs "
                + "(\(Format.fixed(Double(r.rejected))) refused), \(Format.fixed(Double(r.passes))) scheduling passes")
            if !r.overrides.isEmpty { out.append("   what-if: " + r.overrides.joined(separator: "; ")) }
            for e in r.siteEvents { out.append("   event: \(TraceTime().format(e.at)) \(e.action.rawValue) \(e.datacenter)") }
            for x in r.rejectedExamples { out.append("   refused: \(x)") }
        }
        return out
    }

    /// Titled tables, in report order.
    var sections: [(title: String, rows: [[String]])] {
        [("Summary", headline),
         ("Wait for the first start, by class", groups(\.classes)),
         ("Wait for the first start, by origin region", groups(\.origins)),
         ("Data centres (mean and peak-hour utilisation per pool; facility energy, cost, carbon)", sites),
         ("Tenants (mean dominant share of the hub)", tenants)]
    }

    func letter(_ i: Int) -> String { i == 0 ? "A" : "B" }

    /// Header cells: `name` alone, or `name A`, `name B`.
    private func heads(_ name: String) -> [String] {
        runs.count == 1 ? [name] : runs.indices.map { "\(name) \(letter($0))" }
    }

    private var headline: [[String]] {
        typealias Metric = (String, (ReplaySummary) -> Double?, Int, Bool)  // name, value, decimals, is a share
        let metrics: [Metric] = [
            ("jobs succeeded", { Double($0.succeeded) }, 0, false),
            ("jobs still waiting at the end", { Double($0.waiting) }, 0, false),
            ("wait p95, all classes (s)", { $0.overall.waitP95 }, 0, false),
            ("started within promise", { $0.overall.withinPromise }, 1, true),
            ("deadlines met", { $0.overall.deadlineMet }, 1, true),
            ("energy (kWh)", { $0.energyKWh }, 0, false),
            ("cost (CNY)", { $0.costCNY }, 0, false),
            ("carbon (kg CO2)", { $0.carbonKg }, 0, false),
            ("fairness (Jain, tenants)", { $0.fairness }, 3, false),
            ("preemptions", { Double($0.preemptions) }, 0, false),
            ("retries of failed runs", { Double($0.retries) }, 0, false),
            ("runs requeued by outages", { Double($0.outageRequeues) }, 0, false),
        ]
        var rows = [["metric"] + (runs.count == 1 ? ["value"] : ["A", "B", "B − A"])]
        for (name, value, decimals, share) in metrics {
            let vs = runs.map(value)
            var row = [name] + vs.map { v in v.map { share ? Format.percent($0) : Format.fixed($0, decimals) } ?? "-" }
            if runs.count == 2 {
                if let a = vs[0], let b = vs[1] {
                    row.append(share ? Format.delta((b - a) * 100, 1) + " pt" : Format.delta(b - a, decimals))
                } else {
                    row.append("-")
                }
            }
            rows.append(row)
        }
        return rows
    }

    private func groups(_ path: KeyPath<ReplaySummary, [GroupStats]>) -> [[String]] {
        var rows = [[""] + heads("jobs") + heads("wait p50") + heads("p95") + heads("p99") + heads("on time")
            + heads("deadline met")]
        for (i, g) in runs[0][keyPath: path].enumerated() {
            let gs = runs.map { $0[keyPath: path][i] }
            rows.append([g.id] + gs.map { Format.fixed(Double($0.submitted)) } + gs.map { Format.duration($0.waitP50) }
                + gs.map { Format.duration($0.waitP95) } + gs.map { Format.duration($0.waitP99) }
                + gs.map { Format.percent($0.withinPromise) } + gs.map { Format.percent($0.deadlineMet) })
        }
        return rows
    }

    private var sites: [[String]] {
        var rows = [["site", "pool"] + heads("util") + heads("peak") + heads("kWh") + heads("CNY") + heads("kg CO2")]
        for (d, site) in runs[0].sites.enumerated() {
            for (p, pool) in site.pools.enumerated() {
                let ss = runs.map { $0.sites[d] }
                let first = p == 0
                rows.append([first ? site.id : "", pool.id]
                    + ss.map { Format.percent($0.pools[p].meanUtilisation) }
                    + ss.map { Format.percent($0.pools[p].peakUtilisation) }
                    + ss.map { first ? Format.fixed($0.energyKWh) : "" } + ss.map { first ? Format.fixed($0.costCNY) : "" }
                    + ss.map { first ? Format.fixed($0.carbonKg) : "" })
            }
        }
        return rows
    }

    private var tenants: [[String]] {
        var rows = [["tenant", "weight"] + heads("jobs") + heads("share")]
        let names = Set(runs.flatMap { $0.tenants.map(\.id) }).sorted()
        for name in names {
            let ts = runs.map { r in r.tenants.first { $0.id == name } }
            let weight = ts.compactMap { $0?.weight }.first ?? 1
            rows.append([name, Format.fixed(weight, 1)] + ts.map { $0.map { Format.fixed(Double($0.jobs)) } ?? "-" }
                + ts.map { $0.map { Format.percent($0.meanDominantShare) } ?? "-" })
        }
        return rows
    }
}
