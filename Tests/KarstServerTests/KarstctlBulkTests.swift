import Foundation
import KarstConfig
import KarstCore
import KarstProtocol
import Testing

/// `karstctl submit --array` and `--file` (many jobs in one call), `list`'s pages and formats,
/// and the fast path's output beside ArgumentParser's — the real binary against a live daemon.
@Suite struct KarstctlBulkTests {
    static var built: Bool { KarstctlTests.built }

    func karstctl(_ d: LiveDaemon, _ args: [String], fastPath: Bool = true, socket: String? = nil) throws -> (Int32, String, String) {
        let path = productsDirectory.appendingPathComponent("karstctl").path
        var env = ProcessInfo.processInfo.environment
        env["KARST_SOCKET"] = socket ?? d.socket
        if !fastPath { env["KARSTCTL_NO_FAST_PATH"] = "1" }
        return try runProcess(path, args, environment: env)
    }

    func jobCount(_ d: LiveDaemon, state: String? = nil) throws -> Int {
        let c = try d.connect()
        defer { c.close() }
        var p: JSONObject = ["limit": .number(1)]
        if let state { p["state"] = .string(state) }
        let r = try c.call("io.karst.Scheduler.List", p)
        return (r["jobs"]?.arrayValue?.count ?? 0) + Int(r["remaining"]?.numberValue ?? 0)
    }

    func spec(_ d: LiveDaemon, _ id: String) throws -> JSONObject? {
        let c = try d.connect()
        defer { c.close() }
        return try c.call("io.karst.Scheduler.Get", ["id": .string(id)])["job"]?.objectValue?["spec"]?.objectValue
    }

    static let agentsHub = testConfiguration { c in
        for i in c.topology.datacenters.indices where c.topology.datacenters[i].id == "beta" {
            c.topology.datacenters[i].executor = .agents
        }
    }

    @Test(.enabled(if: built, "needs a built karstctl"))
    func anArrayIsOneSpecManyTimesWithItsIndex() async throws {
        let d = try await LiveDaemon(Self.agentsHub)
        let base = ["submit", "--origin", "local", "--class", "batch", "--cpu", "0.001", "--memory", "0.001"]
        let r = try karstctl(d, base + ["--name", "sweep", "--array", "0-2,5", "--", "/bin/echo", "hi"])
        #expect(r.0 == 0, "\(r.2)")
        #expect(r.1.hasPrefix("4 jobs queued: job-1 … job-4"), "\(r.1)")
        // In the order of the indices, each named and told its index and the count.
        for (id, index) in [("job-1", "0"), ("job-2", "1"), ("job-4", "5")] {
            let s = try #require(try spec(d, id))
            #expect(s["name"] == .string("sweep-\(index)"))
            #expect(s["environment"]?.objectValue?["KARST_ARRAY_INDEX"] == .string(index))
            #expect(s["environment"]?.objectValue?["KARST_ARRAY_COUNT"] == .string("4"))
        }
        // N alone is a count; a job without a command gets no environment.
        #expect(try karstctl(d, base + ["--array", "3", "--json"]).1.contains(#""ids":["job-5","job-6","job-7"]"#))
        #expect(try spec(d, "job-5")?["environment"] == nil)
        #expect(try spec(d, "job-7")?["name"] == .string("array-2"))
        // Bad indices are bad usage, stating the form; nothing is sent.
        for bad in ["0", "5-2", "x", "1-2-3", "2000000"] {
            let e = try karstctl(d, base + ["--array", bad])
            #expect(e.0 == 64, "\(bad): \(e)")
            #expect(e.2.contains("--array \(bad):"), "\(e.2)")
        }
        #expect(try jobCount(d) == 7)
        try await d.stop()
    }

    @Test(.enabled(if: built, "needs a built karstctl"))
    func aFileOfSpecsOneCallAllOrNone() async throws {
        let d = try await LiveDaemon()
        let dir = NSTemporaryDirectory() + "karstctl-bulk-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let line = { (n: Int, cpu: Double) in
            #"{"name": "l\#(n)", "origin": "local", "priorityClass": "batch", "resources": {"cpu": \#(cpu), "memoryGiB": 0.001}}"#
        }
        // JSON Lines (a blank line skipped), flags over every spec; standard input as `-`.
        try ([line(1, 0.001), "", line(2, 0.001), line(3, 0.001)].joined(separator: "\n") + "\n")
            .write(toFile: dir + "/three.jsonl", atomically: true, encoding: .utf8)
        let three = try karstctl(d, ["submit", "--file", dir + "/three.jsonl", "--class", "online"])
        #expect(three.0 == 0 && three.1.hasPrefix("3 jobs queued"), "\(three)")
        #expect(try spec(d, "job-2")?["priorityClass"] == .string("online"))
        let path = productsDirectory.appendingPathComponent("karstctl").path
        let piped = try runProcess("/bin/sh", ["-c", "\"$0\" submit --file - < \"$1\"", path, dir + "/three.jsonl"],
                                   environment: ["KARST_SOCKET": d.socket])
        #expect(piped.0 == 0 && piped.1.hasPrefix("3 jobs queued: job-4"), "\(piped)")

        // A misspelt member on line 2: named with its line, nothing sent.
        try [line(1, 0.001), #"{"origin": "local", "priorityClass": "batch", "resources": {"cpu": 1, "memoryGiB": 1}, "durationSecs": 5}"#]
            .joined(separator: "\n").write(toFile: dir + "/bad.jsonl", atomically: true, encoding: .utf8)
        let bad = try karstctl(d, ["submit", "--file", dir + "/bad.jsonl"])
        #expect(bad.0 == 64 && bad.2.contains("bad.jsonl:2") && bad.2.contains("job.durationSecs"), "\(bad.2)")
        #expect(try jobCount(d) == 6)

        // 12,000 specs are two calls; the daemon refuses the second (its last job fits nowhere):
        // the first call's jobs are cancelled again, and the refusal names the job by its place
        // in the whole file.
        var lines = (1...11_999).map { line($0, 0.001) }
        lines.append(line(12_000, 5000))
        try lines.joined(separator: "\n").write(toFile: dir + "/big.jsonl", atomically: true, encoding: .utf8)
        let refused = try karstctl(d, ["submit", "--file", dir + "/big.jsonl"])
        #expect(refused.0 == 1, "\(refused)")
        #expect(refused.2.contains("refused: io.karst.Scheduler.Unschedulable"), "\(refused.2)")
        #expect(refused.2.contains("were cancelled"), "\(refused.2)")
        let queued = try jobCount(d) - 6
        #expect(queued > 0 && queued < 12_000)
        #expect(try jobCount(d, state: "cancelled") == queued, "every job the refused submission queued is cancelled")
        try await d.stop()
    }

    @Test(.enabled(if: built, "needs a built karstctl"))
    func listSaysWhatItDidNotShowAndPagesThroughAll() async throws {
        let d = try await LiveDaemon()
        #expect(try karstctl(d, ["submit", "--origin", "local", "--class", "batch", "--cpu", "0.001", "--memory", "0.001",
                                 "--array", "25"]).0 == 0)
        let page = try karstctl(d, ["list", "--limit", "10"])
        #expect(page.0 == 0)
        #expect(page.1.split(separator: "\n").count == 11, "a header and ten rows")
        #expect(page.2.contains("15 more jobs match, not shown: add --after job-10 for the next page, or --all"), "\(page.2)")
        let next = try karstctl(d, ["list", "--limit", "10", "--after", "job-10", "-o", "jsonl"])
        let ids = next.1.split(separator: "\n").compactMap { try? JSONParser.parse(Array($0.utf8)).objectValue?["id"]?.stringValue }
        #expect(ids == (11...20).map { "job-\($0)" })
        let all = try karstctl(d, ["list", "--all", "--limit", "7", "-o", "jsonl"])
        #expect(all.1.split(separator: "\n").count == 25)
        #expect(all.2.isEmpty, "\(all.2)")
        let json = try JSONParser.parse(Array(try karstctl(d, ["list", "--limit", "10", "-o", "json"]).1.utf8)).objectValue
        #expect(json?["jobs"]?.arrayValue?.count == 10 && json?["remaining"] == .number(15))
        let wide = try karstctl(d, ["list", "-o", "wide", "--limit", "1"])
        #expect(wide.1.hasPrefix("ID     NAME     TENANT"), "\(wide.1)")
        #expect(wide.1.contains("array-0"))
        let badFormat = try karstctl(d, ["list", "-o", "yaml"])
        #expect(badFormat.0 == 64 && badFormat.2.contains("-o must be table, wide, json or jsonl, not 'yaml'"), "\(badFormat.2)")
        try await d.stop()
    }

    /// A table is read from ListSummaries; against a daemon that does not know that method (one
    /// from before it, emulated by a proxy that refuses it and passes every other call to this
    /// daemon), karstctl reads the same table from List: a gang split over two pools, running,
    /// pending (queue position, reason) and held jobs alike. The ages compared are in days (the
    /// daemon's manual clock is months back) and the pending jobs' starts are past, so both
    /// tables are read at the same "now" unless a UTC midnight falls between them.
    @Test(.enabled(if: built && InteropTests.python3, "needs a built karstctl and python3"))
    func aTableFromSummariesIsTheTableAnOlderDaemonGives() async throws {
        let d = try await LiveDaemon(PolicySocketTests.configuration())
        let base = ["submit", "--origin", "local", "--memory", "8"]
        #expect(try karstctl(d, base + ["--class", "batch", "--cpu", "4", "--accelerators", "4", "--replicas", "4"]).0 == 0)
        #expect(try karstctl(d, base + ["--class", "online", "--cpu", "1", "--array", "3"]).0 == 0)
        #expect(try karstctl(d, base + ["--class", "best-effort", "--cpu", "1", "--accelerators", "8", "--array", "4"]).0 == 0)
        #expect(try karstctl(d, ["hold", "job-8"]).0 == 0)
        let dir = shortTempDir(), older = dir + "/older.sock"
        let proxy = Process()
        proxy.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        proxy.arguments = ["python3", InteropTests.repoRoot.appendingPathComponent("Tests/interop/older_daemon.py").path,
                           older, d.socket]
        let ready = Pipe()
        proxy.standardOutput = ready
        try proxy.run()
        defer { proxy.terminate(); proxy.waitUntilExit(); try? FileManager.default.removeItem(atPath: dir) }
        #expect(String(decoding: ready.fileHandleForReading.availableData, as: UTF8.self).hasPrefix("ready"))
        let views = [["list"], ["list", "--limit", "3", "--all"], ["list", "--state", "pending"]]
        for argv in views {
            let fromSummaries = try karstctl(d, argv), fromJobs = try karstctl(d, argv, socket: older)
            #expect(fromSummaries.0 == 0 && fromJobs.0 == 0, "\(argv): \(fromSummaries.2) \(fromJobs.2)")
            #expect(fromSummaries.1 == fromJobs.1, "\(argv):\n\(fromSummaries.1)\nvs\n\(fromJobs.1)")
            #expect(fromSummaries.2 == fromJobs.2, "\(argv)")
        }
        let table = try karstctl(d, ["list"]).1
        for shown in ["site/npu1*2+npu2*2", "held", "no-capacity:", "best-effort", "online"] {
            #expect(table.contains(shown), "\(shown) in\n\(table)")
        }
        // The daemon answered the direct tables' calls with ListSummaries: a page each, three
        // pages of three for --all (the proxy's calls were refused before reaching it).
        let c = try d.connect()
        defer { c.close() }
        var counted = ""
        #expect(try await eventually {
            let metrics = try c.call("io.karst.Admin.Metrics")["text"]?.stringValue ?? ""
            counted = String(metrics.split(separator: "\n").first { $0.hasPrefix("karst_call_duration_seconds_count{method=\"ListSummaries\"}") } ?? "")
            return counted.hasSuffix(" 6")
        }, "1 + 3 + 1 tables above, 1 after them: \(counted)")
        try await d.stop()
    }

    /// The same calls with the fast path and without it (ArgumentParser alone): the same exit
    /// status and the same output, errors included.
    @Test(.enabled(if: built, "needs a built karstctl"))
    func theFastPathAndArgumentParserAnswerAlike() async throws {
        let d = try await LiveDaemon()
        _ = try karstctl(d, ["submit", "--origin", "local", "--class", "batch", "--cpu", "1", "--memory", "1", "--array", "3"])
        let calls: [[String]] = [
            ["--version"],
            ["submit", "--origin", "local", "--class", "batch", "--cpu", "1", "--memory", "1", "--dry-run", "--json"],
            ["submit", "--origin", "local", "--class", "batch", "--cpu", "x", "--memory", "1"],
            ["submit", "--origin", "local", "--class", "batch", "--cpu", "1"],
            ["submit", "--origin", "local", "--class", "batch", "--cpu", "1", "--memory", "1", "--duration", "soon"],
            ["submit", "--origin", "nowhere", "--class", "batch", "--cpu", "1", "--memory", "1", "--dry-run"],
            ["list", "-o", "jsonl"],
            ["list", "--limit", "2", "-o", "json"],
            ["list", "--limit", "0"],
            ["list", "--after", "yesterday"],
            ["list", "--state", "pending", "--json", "-o", "wide"],
        ]
        for argv in calls {
            let fast = try karstctl(d, argv), slow = try karstctl(d, argv, fastPath: false)
            #expect(fast.0 == slow.0, "\(argv): \(fast.0) vs \(slow.0)")
            #expect(fast.1 == slow.1, "\(argv)")
            #expect(fast.2 == slow.2, "\(argv): \(fast.2) vs \(slow.2)")
        }
        try await d.stop()
    }
}
