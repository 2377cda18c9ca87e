import Foundation
import KarstClient
import KarstConfig
import KarstProtocol
import KarstTesting
import Testing

/// `karstctl top` in a real terminal: tmux runs it at 80×24, the test reads the screen
/// (capture-pane), submits work, resizes the window and presses `q` (send-keys).
@Suite struct TopTests {
    static let tmux = ["/usr/bin/tmux", "/bin/tmux"].first { FileManager.default.isExecutableFile(atPath: $0) }

    @Test(.enabled(if: tmux != nil && KarstctlTests.built,
                   "SKIPPED: tmux is not installed (apt-get install tmux), so karstctl top was not run in a terminal"))
    func aLiveViewInATerminalThatFollowsItsSizeAndQuitsOnQ() async throws {
        let d = try await LiveDaemon(KarstConfiguration.builtIn())  // the Guizhou hub: ten pools, four classes
        let server = "karst-top-\(getpid())"
        let dir = shortTempDir()
        defer {
            _ = Self.spawnAndWait(Self.tmux!, ["-L", server, "kill-server"])
            try? FileManager.default.removeItem(atPath: dir)
        }
        let c = try d.connect()
        for _ in 0..<3 { _ = try c.call("io.karst.Scheduler.Submit", jobParams(origin: "gba", cpu: 4, memory: 8)) }
        let ctl = productsDirectory.appendingPathComponent("karstctl").path
        let command = "env KARST_SOCKET=\(d.socket) \(ctl) top; echo EXIT=$? > \(dir)/exit; sleep 30"
        #expect(Self.spawnAndWait(Self.tmux!, ["-L", server, "new-session", "-d", "-x", "80", "-y", "24", command]) == 0)
        func screen() -> [String] {
            let out = (try? runProcess(Self.tmux!, ["-L", server, "capture-pane", "-p", "-t", "0"]).1) ?? ""
            return out.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        }
        var lines: [String] = []
        #expect(try await eventually { lines = screen(); return lines.joined().contains("EVENTS") && lines.joined().contains("gcbd-icloud") },
                "top never drew: \(lines)")
        // Laid out for 80×24: the header on the first line (nothing scrolled), every line within
        // 80 columns, each site's line whole.
        #expect(lines.first?.hasPrefix("karstd ") == true, "\(lines)")
        #expect(lines.first?.hasSuffix("q: quit") == true, "\(lines.first ?? "")")
        #expect(lines.allSatisfy { $0.count <= 80 }, "\(lines)")
        #expect(lines.contains { $0.hasPrefix("gcbd-icloud") && $0.hasSuffix("running") }, "\(lines)")
        #expect(lines.contains { $0.hasPrefix("QUEUE  critical 0") }, "\(lines)")

        // An event shows as it happens.
        let id = try c.call("io.karst.Scheduler.Submit", jobParams(origin: "yrd", cpu: 1, memory: 1))["job"]?.objectValue?["id"]?.stringValue ?? "?"
        #expect(try await eventually { lines = screen(); return lines.contains { $0.contains("placed") && $0.contains(id) } },
                "no placed line for \(id): \(lines)")

        // A bigger window: the view grows with it.
        #expect(Self.spawnAndWait(Self.tmux!, ["-L", server, "resize-window", "-t", "0", "-x", "110", "-y", "30"]) == 0)
        #expect(try await eventually { lines = screen(); return (lines.first?.count ?? 0) > 100 && lines.count >= 30 },
                "\(lines.count) lines, the first \(lines.first?.count ?? 0) long: \(lines.first ?? "")")

        // A few calls a second, not a storm: Stats about once per second (the default interval).
        func statsCalls() throws -> Double {
            let text = try c.call("io.karst.Admin.Metrics")["text"]?.stringValue ?? ""
            let line = text.split(separator: "\n").first { $0.hasPrefix("karst_call_duration_seconds_count{method=\"Stats\"}") }
            return Double(line?.split(separator: " ").last ?? "0") ?? 0
        }
        let before = try statsCalls()
        try await Task.sleep(for: .seconds(3))
        let calls = try statsCalls() - before
        #expect(calls >= 1 && calls <= 5, "\(calls) Stats calls in 3 s")

        // q quits, with status 0.
        #expect(Self.spawnAndWait(Self.tmux!, ["-L", server, "send-keys", "-t", "0", "q"]) == 0)
        #expect(try await eventually { (try? String(contentsOfFile: dir + "/exit", encoding: .utf8)) == "EXIT=0\n" })
        c.close()
        try await d.stop()
    }

    /// Runs a tmux command with /dev/null for its descriptors and waits for it by pid: the
    /// server a first command forks keeps the descriptors it was given (a pipe would never reach
    /// end of file), and Foundation's Process loses track of a child that forks a daemon. A clean
    /// signal mask (`Spawn`): a terminal's programs must get SIGWINCH.
    static func spawnAndWait(_ path: String, _ args: [String]) -> Int32 {
        guard let pid = try? Spawn.start(path, args) else { return -1 }
        return Spawn.wait(pid)
    }
}
