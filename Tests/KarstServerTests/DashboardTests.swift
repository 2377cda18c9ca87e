import Foundation
import KarstClient
import KarstProtocol
import Testing

/// Deploy/karst-grafana-dashboard.json against a live daemon's `/metrics`: every series a panel
/// queries is one the daemon exports, with the labels the query groups by and the legend names.
@Suite struct DashboardTests {
    static var dashboard: URL { CrashTests.repoRoot.appendingPathComponent("Deploy/karst-grafana-dashboard.json") }

    @Test(.enabled(if: DaemonProcessTests.built, "needs a built karstd"))
    func everyQueryNamesASeriesTheDaemonExports() async throws {
        let port = 20_000 + Int(getpid() % 1000)
        let (p, socket, dir) = try DaemonProcessTests().start(["--metrics-listen", "127.0.0.1:\(port)"])
        defer {
            p.terminate()
            p.waitUntilExit()
            try? FileManager.default.removeItem(atPath: dir)
        }
        #expect(try await eventually { FileManager.default.fileExists(atPath: socket) })
        // Some life: jobs of a quota tenant and others, one that waits, a watch open.
        let c = try VarlinkConnection(path: socket)
        for _ in 0..<5 { _ = try c.call("io.karst.Scheduler.Submit", jobParams(origin: "gba", cpu: 2, memory: 4)) }
        _ = try c.call("io.karst.Scheduler.Submit", jobParams(origin: "gba", cpu: 1, memory: 1, extra: ["tenant": .string("yrd-ai-lab")]))
        _ = try c.call("io.karst.Scheduler.Submit", jobParams(origin: "gba", cpu: 1, memory: 1, extra: ["notBefore": .string("2099-01-01T00:00:00Z")]))
        let watch = try VarlinkConnection(path: socket)
        try watch.stream("io.karst.Scheduler.Watch")
        var text = ""
        _ = try await eventually(10) {
            text = httpGet(port: port, path: "/metrics")
            return text.contains("karst_tenant_dominant_share") && text.contains("karst_watches_open 1")
                && text.contains("karst_jobs_pending_by_reason{reason=\"window\"} 1")
        }
        watch.close()
        c.close()
        let exported = Self.series(text)
        #expect(exported.count > 40, "\(exported.keys.sorted())")

        let json = try JSONParser.parse(Array(try Data(contentsOf: Self.dashboard))).objectValue
        let panels = json?["panels"]?.arrayValue ?? []
        var queries = 0
        for case .object(let panel) in panels where panel["type"]?.stringValue != "row" {
            let title = panel["title"]?.stringValue ?? "?"
            #expect(panel["datasource"]?.objectValue?["uid"] == .string("${datasource}"), "\(title): not on the dashboard's data source")
            let targets = panel["targets"]?.arrayValue ?? []
            #expect(!targets.isEmpty, "\(title) queries nothing")
            for case .object(let t) in targets {
                let expr = t["expr"]?.stringValue ?? ""
                queries += 1
                let names = Self.metricNames(expr)
                #expect(!names.isEmpty, "\(title): \(expr) names no karst series")
                var labels: Set<String> = []
                for name in names {
                    guard let have = exported[name] else {
                        Issue.record("\(title): \(expr) queries \(name), which the daemon does not export")
                        continue
                    }
                    labels.formUnion(have)
                }
                for label in Self.groupedBy(expr) where !labels.contains(label) {
                    Issue.record("\(title): \(expr) groups by \(label), which \(names) do not carry")
                }
                for label in Self.legendLabels(t["legendFormat"]?.stringValue ?? "") where !labels.contains(label) {
                    Issue.record("\(title): the legend names {{\(label)}}, which \(names) do not carry")
                }
            }
        }
        #expect(queries >= 30, "only \(queries) queries")
    }

    /// Each series name in a Prometheus text exposition, with the label names it carries.
    static func series(_ text: String) -> [String: Set<String>] {
        var out: [String: Set<String>] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let name = String(line.prefix { $0 != "{" && $0 != " " })
            var labels: Set<String> = []
            if let open = line.firstIndex(of: "{"), let close = line.firstIndex(of: "}") {
                for pair in line[line.index(after: open)..<close].split(separator: ",") {
                    labels.insert(String(pair.prefix { $0 != "=" }))
                }
            }
            out[name, default: []].formUnion(labels)
        }
        return out
    }

    static func metricNames(_ expr: String) -> Set<String> {
        Set(expr.matches(of: /karst_[a-z0-9_]+/).map { String($0.output) })
    }

    static func groupedBy(_ expr: String) -> Set<String> {
        var out: Set<String> = []
        for m in expr.matches(of: /by \(([a-z_, ]+)\)/) {
            for l in m.output.1.split(separator: ",") {
                let name = l.trimmingCharacters(in: .whitespaces)
                out.insert(name)
            }
        }
        return out
    }

    static func legendLabels(_ legend: String) -> Set<String> {
        Set(legend.matches(of: /\{\{([a-z_]+)\}\}/).map { String($0.output.1) })
    }
}
