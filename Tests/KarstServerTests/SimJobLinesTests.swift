import Foundation
import KarstProtocol
import Testing

/// `karst-sim run --jobs-out`: a replay's jobs in the daemon's own wire form, read back by the
/// generated `WireJob` (strictly: every member must be one the IDL names).
@Suite struct SimJobLinesTests {
    static var built: Bool {
        FileManager.default.isExecutableFile(atPath: productsDirectory.appendingPathComponent("karst-sim").path)
    }

    @Test(.enabled(if: built, "needs a built karst-sim"))
    func aReplaysJobsReadBackAsProtocolJobs() throws {
        let out = NSTemporaryDirectory() + "karst-sim-jobs-\(getpid()).jsonl"
        defer { try? FileManager.default.removeItem(atPath: out) }
        let sample = CrashTests.repoRoot.appendingPathComponent("Config/traces/sample-day.csv").path
        let run = try runProcess(productsDirectory.appendingPathComponent("karst-sim").path,
                                 ["run", sample, "--quiet", "--jobs-out", out], environment: [:])
        #expect(run.0 == 0, "\(run.2)")
        let lines = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n")
        #expect(lines.count > 1000)
        var states: [String: Int] = [:]
        for (i, line) in lines.enumerated() {
            let job = try WireJob(wire: try JSONParser.parse(Array(line.utf8)), path: WirePath("line \(i + 1)"), strict: true)
            #expect(job.id == "job-\(i + 1)")
            states[job.state, default: 0] += 1
        }
        #expect((states["succeeded"] ?? 0) > lines.count / 2, "\(states)")
    }
}
