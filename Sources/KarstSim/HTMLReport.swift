import KarstCore

/// One replay, or two compared, as a single self-contained HTML page: inline CSS and SVG, no
/// script, nothing fetched. Charts: utilisation per site, queue depth by class, wait CDFs by class,
/// energy and carbon against the price curve; then the summary tables.
public struct HTMLReport: Sendable {
    public let runs: [ReplaySummary]
    public let trace: String

    public init(_ runs: [ReplaySummary], trace: String) {
        self.runs = runs
        self.trace = trace
    }

    public var html: String {
        let tables = ReportTables(runs)
        let title = runs.count == 1 ? "Karst replay: \(runs[0].label)" : "Karst: \(runs[0].label) (A) vs \(runs[1].label) (B)"
        var out = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            + "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            + "<title>\(esc(title))</title><style>\(Self.css)</style></head><body><main>\n"
        out += "<h1>\(esc(title))</h1>\n<p class=\"meta\">Trace: \(esc(trace))<br>"
            + tables.description.map(esc).joined(separator: "<br>") + "</p>\n"
        let summary = tables.sections[0]
        out += section("Summary", table(summary.rows))
        let charts = ReportCharts(runs)
        out += section("Utilisation per site over time", "<div class=\"grid\">" + charts.utilisation.joined() + "</div>",
                       note: "Hourly mean of each pool's dominant share (the fullest of cores, memory, accelerators). "
                           + "Shaded: the site was offline (red) or draining (amber).")
        out += section("Queue depth by class", charts.queueDepth, note: "Mean pending jobs per hour.")
        out += section("Wait for the first start: CDF by class", charts.waitCDF,
                       note: "Share of the jobs that started within a wait (log scale).")
        out += section("Energy and carbon against the price curve", charts.energy + charts.carbon,
                       note: "Facility energy (IT × PUE) per hour; carbon at each hour's clean share; "
                           + "price: mean over the sites of the hourly CNY/kWh.")
        for s in tables.sections.dropFirst() { out += section(s.title, table(s.rows)) }
        out += "<footer>karst-sim — the same KarstCore scheduling code as karstd, on a virtual clock. "
            + "This page is self-contained: no script, no network.</footer>\n"
        return out + "</main></body></html>\n"
    }

    private func section(_ title: String, _ body: String, note: String? = nil) -> String {
        "<section><h2>\(esc(title))</h2>" + (note.map { "<p class=\"note\">\(esc($0))</p>" } ?? "") + body + "</section>\n"
    }

    private func table(_ rows: [[String]]) -> String {
        guard let head = rows.first else { return "" }
        var out = "<table><thead><tr>" + head.map { "<th>\(esc($0))</th>" }.joined() + "</tr></thead><tbody>"
        for r in rows.dropFirst() {
            out += "<tr>" + r.enumerated().map { $0 == 0 ? "<th>\(esc($1))</th>" : "<td>\(esc($1))</td>" }.joined() + "</tr>"
        }
        return out + "</tbody></table>\n"
    }

    static let css = """
        body{margin:0;background:#f6f7f9;color:#1d2329;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
        main{max-width:1120px;margin:0 auto;padding:20px 24px 40px}
        h1{font-size:22px;margin:8px 0 4px}h2{font-size:17px;margin:0 0 6px}
        section{background:#fff;border:1px solid #dde1e6;border-radius:8px;padding:14px 16px;margin:14px 0}
        .meta{color:#4a5560;font-size:13px}.note{color:#5b6670;font-size:12.5px;margin:0 0 6px}
        .grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(480px,1fr));gap:8px}
        svg.chart{width:100%;height:auto;display:block}
        svg .title{font-size:14px;font-weight:600;fill:#1d2329}svg .tick{font-size:11px;fill:#5b6670}
        svg .axis-label{font-size:11.5px;fill:#4a5560}svg .legend-label{font-size:11.5px;fill:#1d2329}
        svg .band-label{font-size:10.5px;fill:#7a2d2d}svg .grid{stroke:#e6e9ed;stroke-width:1}
        table{border-collapse:collapse;font-size:12.5px;font-variant-numeric:tabular-nums;margin:4px 0;width:100%}
        th,td{padding:3px 8px;border-bottom:1px solid #eceff2;text-align:right;white-space:nowrap}
        th:first-child{text-align:left}thead th{background:#f0f2f5;font-weight:600}
        tbody th{font-weight:500}footer{color:#6b7680;font-size:12px;margin-top:18px}
        """
}
