import KarstCore
import KarstTrace

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A self-contained SVG chart: lines, steps or stacked areas over a time axis (hours from an
/// origin, labelled in local time) or a logarithmic seconds axis (wait CDFs), an optional right
/// axis, shaded bands (site outages) and a legend. Each series is one
/// `<g class="series" data-series="NAME">`, so tests and readers can find it.
struct SVGChart {
    enum XAxis {
        /// x in hours after `origin`.
        case time(origin: Instant, utcOffsetHours: Int)
        /// x in seconds, drawn on log10(max(1, x)).
        case logSeconds
    }

    enum Style { case line, stackedArea }

    struct Series {
        var name: String
        var color: String
        var points: [(x: Double, y: Double)]
        var dashed = false
        var right = false
        var style = Style.line
    }

    struct Band {
        var from: Double
        var to: Double
        var label: String
        var color: String
    }

    var title: String
    var x: XAxis
    var yLabel: String
    var rightLabel: String? = nil
    var percent = false
    var series: [Series] = []
    var bands: [Band] = []
    var width = 960.0
    var height = 300.0

    private let left = 64.0, rightPad = 64.0, top = 40.0, bottom = 46.0

    var svg: String {
        let plotW = width - left - rightPad, plotH = height - top - bottom
        let xs = series.flatMap { $0.points.map { xValue($0.x) } }
        let x0 = xs.min() ?? 0, x1 = max((xs.max() ?? 1), x0 + 1e-9)
        let stacked = stackedSeries()
        let leftMax = niceMax(series.indices.filter { !series[$0].right }.flatMap { stacked[$0].map(\.y) }.max() ?? 0)
        let rightMax = niceMax(series.filter(\.right).flatMap { $0.points.map(\.y) }.max() ?? 0)
        func px(_ v: Double) -> Double { left + (xValue(v) - x0) / (x1 - x0) * plotW }
        func py(_ v: Double, _ right: Bool) -> Double {
            let m = right ? rightMax : leftMax
            return top + plotH - (m > 0 ? v / m : 0) * plotH
        }
        var out = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(n(width)) \(n(height))\" "
            + "role=\"img\" aria-label=\"\(esc(title))\" class=\"chart\">\n"
        out += "<text x=\"\(n(left))\" y=\"18\" class=\"title\">\(esc(title))</text>\n"
        for b in bands {
            let a = max(left, px(b.from)), z = min(left + plotW, px(b.to))
            guard z > a else { continue }
            out += "<g class=\"band\"><rect x=\"\(n(a))\" y=\"\(n(top))\" width=\"\(n(z - a))\" height=\"\(n(plotH))\" "
                + "fill=\"\(b.color)\" opacity=\"0.18\"/><text x=\"\(n(a + 3))\" y=\"\(n(top + 12))\" class=\"band-label\">"
                + "\(esc(b.label))</text></g>\n"
        }
        out += grid(leftMax, rightMax, plotW: plotW, plotH: plotH, x0: x0, x1: x1)
        for (i, s) in series.enumerated() {
            let pts = stacked[i]
            guard !pts.isEmpty else { continue }
            let line = pts.map { "\(n(px($0.x))),\(n(py($0.y, s.right)))" }.joined(separator: " ")
            out += "<g class=\"series\" data-series=\"\(esc(s.name))\">"
            if s.style == .stackedArea {
                let below = i > 0 && series[i - 1].style == .stackedArea ? stacked[i - 1] : pts.map { ($0.x, 0.0) }
                let back = below.reversed().map { "\(n(px($0.x))),\(n(py($0.y, s.right)))" }.joined(separator: " ")
                out += "<polygon points=\"\(line) \(back)\" fill=\"\(s.color)\" fill-opacity=\"0.55\" stroke=\"none\"/>"
            }
            out += "<polyline points=\"\(line)\" fill=\"none\" stroke=\"\(s.color)\" stroke-width=\"\(s.right ? 2.2 : 1.6)\""
                + (s.dashed ? " stroke-dasharray=\"6 4\"" : "") + "/></g>\n"
        }
        out += legend()
        return out + "</svg>"
    }

    private func xValue(_ v: Double) -> Double {
        if case .logSeconds = x { return log10(max(1, v)) }
        return v
    }

    /// Each series' points, with stacked areas added onto the stacked series before them.
    private func stackedSeries() -> [[(x: Double, y: Double)]] {
        var out: [[(x: Double, y: Double)]] = []
        for (i, s) in series.enumerated() {
            if s.style == .stackedArea, i > 0, series[i - 1].style == .stackedArea, out[i - 1].count == s.points.count {
                out.append(zip(s.points, out[i - 1]).map { ($0.x, $0.y + $1.y) })
            } else {
                out.append(s.points)
            }
        }
        return out
    }

    private func grid(_ leftMax: Double, _ rightMax: Double, plotW: Double, plotH: Double, x0: Double, x1: Double) -> String {
        var out = "<g class=\"axes\">"
        for i in 0...4 {
            let y = top + plotH - Double(i) / 4 * plotH
            out += "<line x1=\"\(n(left))\" y1=\"\(n(y))\" x2=\"\(n(left + plotW))\" y2=\"\(n(y))\" class=\"grid\"/>"
            out += "<text x=\"\(n(left - 6))\" y=\"\(n(y + 4))\" class=\"tick\" text-anchor=\"end\">\(yTick(leftMax * Double(i) / 4))</text>"
            if rightLabel != nil {
                out += "<text x=\"\(n(left + plotW + 6))\" y=\"\(n(y + 4))\" class=\"tick\">\(trim(rightMax * Double(i) / 4))</text>"
            }
        }
        for (value, label) in xTicks(x0, x1) {
            let xp = left + (value - x0) / (x1 - x0) * plotW
            out += "<line x1=\"\(n(xp))\" y1=\"\(n(top))\" x2=\"\(n(xp))\" y2=\"\(n(top + plotH))\" class=\"grid\"/>"
            out += "<text x=\"\(n(xp))\" y=\"\(n(top + plotH + 16))\" class=\"tick\" text-anchor=\"middle\">\(esc(label))</text>"
        }
        out += "<text x=\"14\" y=\"\(n(top + plotH / 2))\" class=\"axis-label\" transform=\"rotate(-90 14 \(n(top + plotH / 2)))\" "
            + "text-anchor=\"middle\">\(esc(yLabel))</text>"
        if let rightLabel {
            let xr = width - 12
            out += "<text x=\"\(n(xr))\" y=\"\(n(top + plotH / 2))\" class=\"axis-label\" "
                + "transform=\"rotate(90 \(n(xr)) \(n(top + plotH / 2)))\" text-anchor=\"middle\">\(esc(rightLabel))</text>"
        }
        return out + "</g>\n"
    }

    private func xTicks(_ x0: Double, _ x1: Double) -> [(Double, String)] {
        switch x {
        case .logSeconds:
            let marks: [(Double, String)] = [(1, "≤1s"), (10, "10s"), (60, "1m"), (600, "10m"), (3600, "1h"),
                                             (6 * 3600, "6h"), (86_400, "1d"), (7 * 86_400, "1w")]
            return marks.map { (log10($0.0), $0.1) }.filter { $0.0 >= x0 - 1e-9 && $0.0 <= x1 + 1e-9 }
        case .time(let origin, let offset):
            let span = x1 - x0
            let most = max(2, (width - left - rightPad) / 95)  // a label needs ~95 px
            let step = [1.0, 2, 3, 6, 12, 24, 48, 96, 168].first { span / $0 <= most } ?? 336
            var out: [(Double, String)] = []
            var h = (x0 / step).rounded(.up) * step
            while h <= x1 + 1e-9 {
                let text = TraceTime(utcOffsetHours: offset).format(origin.advanced(bySeconds: h * 3600))
                out.append((h, String(text.dropFirst(5).prefix(11))))
                h += step
            }
            return out
        }
    }

    private func legend() -> String {
        var out = "<g class=\"legend\">"
        var xPos = width - rightPad
        for s in series.reversed() {
            let w = Double(s.name.count) * 6.6 + 26
            xPos -= w
            out += "<line x1=\"\(n(xPos))\" y1=\"26\" x2=\"\(n(xPos + 16))\" y2=\"26\" stroke=\"\(s.color)\" stroke-width=\"3\""
                + (s.dashed ? " stroke-dasharray=\"4 3\"" : "") + "/>"
            out += "<text x=\"\(n(xPos + 20))\" y=\"30\" class=\"legend-label\">\(esc(s.name))</text>"
        }
        return out + "</g>\n"
    }

    private func yTick(_ v: Double) -> String { percent ? "\(Int((v * 100).rounded()))%" : trim(v) }

    private func trim(_ v: Double) -> String {
        if v >= 10_000 { return (v / 1000 == (v / 1000).rounded() ? Format.fixed(v / 1000) : Format.fixed(v / 1000, 1)) + "k" }
        if v >= 10 || v == v.rounded() { return Format.fixed(v) }
        return v * 10 == (v * 10).rounded() ? Format.fixed(v, 1) : Format.fixed(v, 2)
    }

    /// The top of an axis with four even steps, each a round number (1, 1.5, 2, 2.5, 3, 4, 5, 6 or
    /// 8 × a power of ten) at or above a quarter of `v` (1 for a share axis that reaches 1).
    private func niceMax(_ v: Double) -> Double {
        guard v > 0 else { return 1 }
        if percent && v <= 1 { return 1 }
        let quarter = v / 4
        let p = pow(10, (log10(quarter)).rounded(.down))
        for m in [1.0, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10] where m * p >= quarter * 1.0001 { return 4 * m * p }
        return 40 * p
    }

    private func n(_ v: Double) -> String { Format.fixed(v, 1).replacingAll(",", with: "") }
}

/// Escapes text for XML content and attributes.
func esc(_ s: String) -> String {
    var out = ""
    for c in s {
        switch c {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        default: out.append(c)
        }
    }
    return out
}

extension String {
    func replacingAll(_ target: Character, with replacement: String) -> String {
        var out = ""
        for c in self { if c == target { out += replacement } else { out.append(c) } }
        return out
    }
}
