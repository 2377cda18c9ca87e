import Foundation
import KarstConfig
import KarstCore
import KarstJSON
import KarstSim
import Testing

#if canImport(FoundationXML)
import FoundationXML
#endif

/// The HTML report: well-formed inline SVG holding the expected series, nothing fetched or run,
/// and (where headless Chromium is installed) a rendering that is not blank.
@Suite struct ReportTests {
    static let t0 = Instant(rfc3339: "2026-07-01T00:00:00+08:00")!

    static func summary(_ overrides: [String] = [], label: String = "base") throws -> ReplaySummary {
        var s = Scenario(label: label, topology: KarstConfiguration.builtIn().topology)
        for o in overrides { try s.apply(o) }
        return try s.replay(WorkloadGenerator().generate(start: t0, hours: 4, seed: 3), seed: 1)
    }

    /// Every `<svg …>…</svg>` of the page.
    static func svgs(_ html: String) -> [String] {
        var out: [String] = []
        var rest = html[...]
        while let open = rest.range(of: "<svg "), let close = rest.range(of: "</svg>", range: open.upperBound..<rest.endIndex) {
            out.append(String(rest[open.lowerBound..<close.upperBound]))
            rest = rest[close.upperBound...]
        }
        return out
    }

    /// Parses one SVG as XML and returns its `data-series` names; nil if it is not well-formed.
    static func seriesNames(_ svg: String) -> [String]? {
        final class Collector: NSObject, XMLParserDelegate {
            var names: [String] = []
            func parser(_ p: XMLParser, didStartElement e: String, namespaceURI: String?, qualifiedName: String?,
                        attributes: [String: String]) {
                if let n = attributes["data-series"] { names.append(n) }
            }
        }
        let parser = XMLParser(data: Data(svg.utf8))
        let c = Collector()
        parser.delegate = c
        return parser.parse() ? c.names : nil
    }

    @Test func theChartsAreWellFormedSVGWithTheExpectedSeries() throws {
        let s = try Self.summary(["event=2026-07-01T01:00 offline tc-qixing", "event=2026-07-01T03:00 resume tc-qixing"])
        let html = HTMLReport([s], trace: "generated").html
        let charts = Self.svgs(html)
        let names = try charts.map { try #require(Self.seriesNames($0), "not well-formed XML: \($0.prefix(200))") }
        #expect(charts.count == 6 + 4)  // one per site; queue, CDF, energy, carbon
        for (d, site) in s.sites.enumerated() { #expect(names[d] == site.pools.map(\.id), "\(site.id)") }
        #expect(names[6] == s.classes.map(\.id))
        #expect(Set(names[7]).isSubset(of: s.classes.map(\.id)) && names[7].contains("batch"))
        #expect(names[8] == s.sites.map(\.id) + ["price"])
        #expect(names[9] == s.sites.map(\.id) + ["price"])
        // The outage is drawn on the Tencent chart and the hub-wide ones.
        let tc = s.sites.firstIndex { $0.id == "tc-qixing" }!
        #expect(charts[tc].contains("tc-qixing offline") && charts[6].contains("tc-qixing offline"))
        #expect(!charts[0].contains("offline"))
        // Lines have as many points as hours.
        let points = charts[6].components(separatedBy: "<polyline points=\"")[1].prefix { $0 != "\"" }
        #expect(points.split(separator: " ").count == s.hours.count)
    }

    @Test func thePageIsSelfContained() throws {
        let html = HTMLReport([try Self.summary()], trace: "generated").html
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(!html.lowercased().contains("<script"))
        #expect(!html.contains("<link") && !html.contains("<img") && !html.contains("@import"))
        let urls = html.components(separatedBy: "http").dropFirst().map { "http" + $0.prefix(30) }
        #expect(urls.allSatisfy { $0.hasPrefix("http://www.w3.org/2000/svg") }, "\(urls)")
    }

    @Test func aComparisonDrawsBothSidesAndTheDifference() throws {
        let a = try Self.summary(label: "A"), b = try Self.summary(["load.gba=2"], label: "B")
        let html = HTMLReport([a, b], trace: "generated").html
        let names = try Self.svgs(html).map { try #require(Self.seriesNames($0)) }
        #expect(names[6].contains("batch A") && names[6].contains("batch B"))
        #expect(names[8] == ["all sites A", "all sites B", "price"])
        #expect(html.contains("B − A"))
        let text = TextReport([a, b]).text
        #expect(text.contains("jobs A") && text.contains("jobs B"))
        let gba = { (s: ReplaySummary) in s.origins.first { $0.id == "gba" }!.submitted }
        #expect(gba(b) > gba(a) * 3 / 2)
        let json = try JSONParser.parse(Array(JSONReport([a, b], trace: "t").text.utf8))
        #expect(json.objectValue?["runs"]?.arrayValue?.count == 2)
    }

    static let chromium = ["chromium", "chromium-browser", "google-chrome"].lazy.compactMap { name in
        ProcessInfo.processInfo.environment["PATH"]?.split(separator: ":")
            .map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }.first

    @Test(.enabled(if: chromium != nil,
                   "SKIPPED: headless Chromium is not installed, so the report was not rendered (apt-get install chromium)"))
    func chromiumRendersTheReportAndItIsNotBlank() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("karst-report-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let page = dir.appendingPathComponent("r.html"), png = dir.appendingPathComponent("r.png")
        try HTMLReport([try Self.summary()], trace: "generated").html.write(to: page, atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Self.chromium!)
        p.arguments = ["--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1280,2400",
                       "--screenshot=\(png.path)", page.absoluteString]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        let bytes = try #require(FileManager.default.contents(atPath: png.path), "Chromium wrote no PNG")
        #expect(bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]))
        let (colours, found) = try Self.colours(png.path, looking: ["#1f77b4", "#ff7f0e", "#2ca02c", "#111111"])
        // A blank page has one colour; the report's charts and tables have many.
        #expect(colours > 50, "only \(colours) colours in the rendering")
        // The charts were drawn: the lines of the pools (cpu blue, npu orange), of the batch class
        // and all sites (green), and the price curve (near black) are on the screen.
        for (colour, pixels) in found { #expect(pixels >= 5, "the charts' \(colour) lines are missing: \(pixels) pixels") }
    }

    /// Distinct RGB colours in a PNG (sampled), and how many sampled pixels are each of
    /// `looking` (within a few steps per channel: lines are anti-aliased), counted by python3's
    /// zlib (no image library needed).
    static func colours(_ path: String, looking: [String]) throws -> (Int, [String: Int]) {
        let script = """
            import sys, zlib, struct
            d = open(sys.argv[1], 'rb').read(); i = 8; idat = b''; w = h = 0
            want = [tuple(int(c[k:k+2], 16) for k in (1, 3, 5)) for c in sys.argv[2:]]; hits = [0] * len(want)
            while i < len(d):
                n, t = struct.unpack('>I4s', d[i:i+8]); body = d[i+8:i+8+n]; i += 12 + n
                if t == b'IHDR': w, h, depth, ctype = struct.unpack('>IIBB', body[:10])
                elif t == b'IDAT': idat += body
            raw = zlib.decompress(idat); bpp = 4 if ctype == 6 else 3; stride = w * bpp
            prev = bytearray(stride); seen = set(); pos = 0
            for y in range(h):
                f = raw[pos]; line = bytearray(raw[pos+1:pos+1+stride]); pos += 1 + stride
                for x in range(stride):
                    a = line[x-bpp] if x >= bpp else 0; b = prev[x]; c = prev[x-bpp] if x >= bpp else 0
                    if f == 1: line[x] = (line[x] + a) & 255
                    elif f == 2: line[x] = (line[x] + b) & 255
                    elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
                    elif f == 4:
                        p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                        line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
                if y % 2 == 0:
                    for x in range(0, stride, bpp):
                        px = bytes(line[x:x+3]); seen.add(px)
                        for k, (r, g, b) in enumerate(want):
                            if abs(px[0] - r) <= 6 and abs(px[1] - g) <= 6 and abs(px[2] - b) <= 6: hits[k] += 1
                prev = line
            print(len(seen), *hits)
            """
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", script, path] + looking
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        p.waitUntilExit()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let numbers = text.split(separator: " ").compactMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        let total = try #require(numbers.first, "python3 said: \(text)")
        return (total, Dictionary(uniqueKeysWithValues: zip(looking, numbers.dropFirst())))
    }
}
