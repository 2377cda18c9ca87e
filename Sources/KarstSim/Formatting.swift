/// Number and duration renderings shared by the text, JSON and HTML reports.
enum Format {
    /// `0s`, `45s`, `12m`, `3h05m`, `2d4h`.
    static func duration(_ s: Double?) -> String {
        guard let s else { return "-" }
        if s < 59.5 { return "\(Int(s.rounded()))s" }
        if s < 3570 { return "\(Int((s / 60).rounded()))m" }
        let minutes = Int((s / 60).rounded())
        if minutes < 48 * 60 { return "\(minutes / 60)h" + pad2(minutes % 60) + "m" }
        let hours = Int((s / 3600).rounded())
        return "\(hours / 24)d\(hours % 24)h"
    }

    /// A percentage with one decimal: `97.3%`; `-` for nil.
    static func percent(_ v: Double?) -> String {
        guard let v else { return "-" }
        return fixed(v * 100, 1) + "%"
    }

    /// `v` with `decimals` decimals, thousands grouped: `12,345.6`.
    static func fixed(_ v: Double, _ decimals: Int = 0) -> String {
        let scale = [1.0, 10, 100, 1000][min(decimals, 3)]
        let scaled = Int64((abs(v) * scale).rounded())
        let whole = scaled / Int64(scale)
        var out = grouped(whole)
        if decimals > 0 {
            let frac = String(scaled % Int64(scale))
            out += "." + String(repeating: "0", count: decimals - frac.count) + frac
        }
        return (v < 0 && scaled != 0 ? "-" : "") + out
    }

    /// A signed difference: `+1.2`, `-3`, `0`.
    static func delta(_ v: Double, _ decimals: Int = 0) -> String {
        let s = fixed(v, decimals)
        return v > 0 && s.contains(where: { $0 != "0" && $0 != "." && $0 != "," }) ? "+" + s : s
    }

    static func grouped(_ n: Int64) -> String {
        let digits = String(n)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return out
    }

    static func pad2(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }

    /// A value rounded to `decimals` for JSON (shortest exact rendering after rounding).
    static func rounded(_ v: Double, _ decimals: Int) -> Double {
        let scale = [1.0, 10, 100, 1000, 10000, 100_000, 1_000_000][min(decimals, 6)]
        return (v * scale).rounded() / scale
    }
}

/// A text table: first column left-aligned, the others right-aligned, two spaces apart.
func textTable(_ rows: [[String]]) -> String {
    guard let cols = rows.map(\.count).max() else { return "" }
    let widths = (0..<cols).map { c in rows.map { c < $0.count ? $0[c].count : 0 }.max() ?? 0 }
    return rows.map { row in
        (0..<cols).map { c in
            let cell = c < row.count ? row[c] : ""
            let pad = String(repeating: " ", count: widths[c] - cell.count)
            return c == 0 ? cell + pad : pad + cell
        }.joined(separator: "  ").trailingSpacesRemoved
    }.joined(separator: "\n") + "\n"
}

extension String {
    var trailingSpacesRemoved: String {
        var s = self
        while s.last == " " { s.removeLast() }
        return s
    }
}
