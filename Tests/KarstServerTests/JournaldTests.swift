import Foundation
import KarstProtocol
import KarstTesting
import Testing

/// The journald handler against a real `systemd-journald`, started for the test in a private
/// mount namespace; entries are read back with `journalctl -o json` by field.
@Suite struct JournaldTests {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("journald/run-in-journald-namespace.sh").path

    static var possible: Bool {
        getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/unshare")
            && FileManager.default.isExecutableFile(atPath: "/lib/systemd/systemd-journald")
            && FileManager.default.isExecutableFile(atPath: productsDirectory.appendingPathComponent("karstd").path)
    }

    @Test(.enabled(if: possible, "needs root, unshare and /lib/systemd/systemd-journald"))
    func jobEventsAreStructuredJournalEntries() throws {
        let work = shortTempDir()
        defer { try? FileManager.default.removeItem(atPath: work) }
        let (status, out, err) = try runProcess("/usr/bin/unshare", [
            "--mount", "--propagation", "private", "bash", Self.script,
            productsDirectory.appendingPathComponent("karstd").path,
            productsDirectory.appendingPathComponent("karstctl").path, work,
        ])
        #expect(status == 0, "\(err)")
        let entries = out.split(separator: "\n").compactMap { try? JSONParser.parse(Array($0.utf8)).objectValue }
        let kinds = entries.compactMap { $0["KARST_EVENT"]?.stringValue }
        #expect(kinds.contains("placed") && kinds.contains("cancelled"), "\(kinds)")
        let placed = try #require(entries.first { $0["KARST_EVENT"]?.stringValue == "placed" })
        #expect(placed["SYSLOG_IDENTIFIER"]?.stringValue == "karstd")
        #expect(placed["PRIORITY"]?.stringValue == "6")
        #expect(placed["KARST_TENANT"]?.stringValue == "root")
        #expect(placed["KARST_CLASS"]?.stringValue == "batch")
        #expect(placed["KARST_DATACENTER"]?.stringValue != nil && placed["KARST_POOL"]?.stringValue != nil)
        #expect(placed["MESSAGE_ID"]?.stringValue == "6c0a3f7e2d8b4a1f9e5c7b3d1a2f4e61")
        #expect(placed["CODE_FILE"]?.stringValue?.hasSuffix(".swift") == true)
        #expect(placed["MESSAGE"]?.stringValue?.hasPrefix("job-1 placed in ") == true)
        #expect(placed["_PID"] != nil, "journald stamps trusted fields")
    }

    /// The agent's log lines about a run carry the run's fields; the daemon's `started` event has
    /// its own MESSAGE_ID.
    @Test(.enabled(if: possible && FileManager.default.isExecutableFile(atPath: productsDirectory.appendingPathComponent("karst-agent").path),
                   "needs root, unshare, systemd-journald and karst-agent"))
    func agentRunsAreStructuredJournalEntries() throws {
        let work = shortTempDir()
        defer { try? FileManager.default.removeItem(atPath: work) }
        let config = work + "/karstd.toml"
        try TestConfigs.toml(datacenters: [("model", 8, 32), ("site", 8, 32)])
            .replacingOccurrences(of: "id = \"site\"\n", with: "id = \"site\"\nexecutor = \"agents\"\n")
            .write(toFile: config, atomically: true, encoding: .utf8)
        let script = URL(fileURLWithPath: Self.script).deletingLastPathComponent()
            .appendingPathComponent("run-agent-in-journald-namespace.sh").path
        let (status, out, err) = try runProcess("/usr/bin/unshare", [
            "--mount", "--propagation", "private", "bash", script,
            productsDirectory.appendingPathComponent("karstd").path,
            productsDirectory.appendingPathComponent("karstctl").path,
            productsDirectory.appendingPathComponent("karst-agent").path, config, work,
        ])
        #expect(status == 0, "\(err)")
        let entries = out.split(separator: "\n").compactMap { try? JSONParser.parse(Array($0.utf8)).objectValue }
        let agent = entries.filter { $0["SYSLOG_IDENTIFIER"]?.stringValue == "karst-agent" }
        let started = try #require(agent.first { $0["MESSAGE"]?.stringValue?.contains("started") == true }, "\(entries)")
        #expect(started["KARST_ATTEMPT"]?.stringValue == "1")
        #expect(started["KARST_DATACENTER"]?.stringValue == "site")
        #expect(started["KARST_AGENT"]?.stringValue == "a1")
        #expect(agent.contains { $0["MESSAGE"]?.stringValue?.contains("ended: exit status 0") == true })
        let event = try #require(entries.first { $0["KARST_EVENT"]?.stringValue == "started" }, "\(entries)")
        #expect(event["SYSLOG_IDENTIFIER"]?.stringValue == "karstd")
        #expect(event["MESSAGE_ID"]?.stringValue == "6c0a3f7e2d8b4a1f9e5c7b3d1a2f4e6a")
    }
}
