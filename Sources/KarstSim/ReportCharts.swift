import KarstCore

/// The report's charts for one replay or two (B dashed), as SVG strings.
struct ReportCharts {
    let runs: [ReplaySummary]

    init(_ runs: [ReplaySummary]) { self.runs = runs }

    static let palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf",
                          "#bcbd22", "#7f7f7f"]
    static let classColours = ["critical": "#d62728", "online": "#1f77b4", "batch": "#2ca02c", "best-effort": "#7f7f7f"]
    static let poolColours = ["cpu": "#1f77b4", "npu": "#ff7f0e", "gpu": "#9467bd"]

    private var origin: Instant { runs.map(\.hours).first { !$0.isEmpty }?.first ?? runs[0].start }
    private var timeAxis: SVGChart.XAxis { .time(origin: origin, utcOffsetHours: 8) }

    /// Series name: `name`, or `name A` / `name B` when comparing.
    private func name(_ base: String, _ run: Int) -> String {
        runs.count == 1 ? base : base + (run == 0 ? " A" : " B")
    }

    /// Hourly values at bucket midpoints, in hours after `origin`.
    private func hourly(_ r: ReplaySummary, _ values: [Double]) -> [(x: Double, y: Double)] {
        let shift = origin.seconds(to: r.hours.first ?? origin) / 3600
        return values.enumerated().map { (shift + Double($0.offset) + 0.5, $0.element) }
    }

    private func colour(_ map: [String: String], _ key: String, _ i: Int) -> String {
        map[key] ?? Self.palette[i % Self.palette.count]
    }

    /// Offline and draining intervals, from the first run's site events (filtered to `site`).
    private func bands(site: String? = nil) -> [SVGChart.Band] {
        let r = runs.last!
        var open: [String: (Double, SiteEvent.Action)] = [:]
        var out: [SVGChart.Band] = []
        let endHour = origin.seconds(to: r.end) / 3600
        func close(_ dc: String, at h: Double) {
            guard let (from, action) = open.removeValue(forKey: dc) else { return }
            out.append(SVGChart.Band(from: from, to: h, label: "\(dc) \(action == .offline ? "offline" : "draining")",
                                     color: action == .offline ? "#d62728" : "#e8a33d"))
        }
        for e in r.siteEvents where site == nil || e.datacenter == site {
            let h = origin.seconds(to: e.at) / 3600
            close(e.datacenter, at: h)
            if e.action != .resume { open[e.datacenter] = (h, e.action) }
        }
        for dc in open.keys.sorted() { close(dc, at: endHour) }
        return out
    }

    var utilisation: [String] {
        runs[0].sites.enumerated().map { d, site in
            var chart = SVGChart(title: site.id, x: timeAxis, yLabel: "utilisation", percent: true,
                                 bands: bands(site: site.id), width: 540, height: 230)
            for (i, r) in runs.enumerated() {
                for (p, pool) in r.sites[d].pools.enumerated() {
                    chart.series.append(.init(name: name(pool.id, i), color: colour(Self.poolColours, pool.id, p),
                                              points: hourly(r, pool.hourlyUtilisation), dashed: i == 1))
                }
            }
            return chart.svg
        }
    }

    var queueDepth: String {
        var chart = SVGChart(title: "Pending jobs by class", x: timeAxis, yLabel: "pending jobs", bands: bands())
        for (i, r) in runs.enumerated() {
            for (c, g) in r.classes.enumerated() {
                chart.series.append(.init(name: name(g.id, i), color: colour(Self.classColours, g.id, c),
                                          points: hourly(r, r.queueDepth[c]), dashed: i == 1))
            }
        }
        return chart.svg
    }

    var waitCDF: String {
        var chart = SVGChart(title: "Wait-time CDF by class", x: .logSeconds, yLabel: "share of started jobs", percent: true)
        for (i, r) in runs.enumerated() {
            for (c, g) in r.classes.enumerated() where !g.waitQuantiles.isEmpty {
                let pts = g.waitQuantiles.enumerated().map { (x: $0.element, y: Double($0.offset) / 100) }
                chart.series.append(.init(name: name(g.id, i), color: colour(Self.classColours, g.id, c),
                                          points: pts, dashed: i == 1))
            }
        }
        return chart.svg
    }

    var energy: String { perSite(title: "Facility energy per hour", unit: "kWh per hour", \.hourlyEnergyKWh) }
    var carbon: String { perSite(title: "Carbon per hour", unit: "kg CO₂ per hour", \.hourlyCarbonKg) }

    /// Stacked by site for one run; totals per run when comparing. The price curve on the right axis.
    private func perSite(title: String, unit: String, _ path: KeyPath<SiteStats, [Double]>) -> String {
        var chart = SVGChart(title: title, x: timeAxis, yLabel: unit, rightLabel: "price CNY/kWh", bands: bands())
        if runs.count == 1 {
            for (d, s) in runs[0].sites.enumerated() {
                chart.series.append(.init(name: s.id, color: Self.palette[d % Self.palette.count],
                                          points: hourly(runs[0], s[keyPath: path]), style: .stackedArea))
            }
        } else {
            for (i, r) in runs.enumerated() {
                let hours = r.hours.count
                let total = (0..<hours).map { b in r.sites.reduce(0) { $0 + ($1[keyPath: path].count > b ? $1[keyPath: path][b] : 0) } }
                chart.series.append(.init(name: name("all sites", i), color: "#2ca02c", points: hourly(r, total), dashed: i == 1))
            }
        }
        let r = runs[0]
        let price = (0..<r.hours.count).map { b in
            r.sites.reduce(0) { $0 + $1.hourlyPrice[b] } / Double(max(1, r.sites.count))
        }
        chart.series.append(.init(name: "price", color: "#111111", points: hourly(r, price), dashed: false, right: true))
        return chart.svg
    }
}
