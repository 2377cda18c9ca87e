import Foundation
import KarstConfig
import KarstTesting

/// One flood scenario's surroundings: a fresh release karstd on the built-in hub with the
/// scenario's `[server]` limits (a configuration file of its own), a canary beside it from start
/// to end, and the daemon's memory before, at its peak and after the flood's clients are gone.
final class FloodStage {
    let daemon: FuzzDaemon
    let canary: FuzzCanary
    private let configDirectory: String
    /// Resident memory right after start, KiB.
    let startKB: Int

    /// Starts the daemon with `server` overriding keys of the built-in `[server]` section.
    init(server: [String: String]) throws {
        configDirectory = TemporaryDirectories.make(prefix: "karst-flood")
        var lines = BuiltinConfig.text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        for (key, value) in server {
            guard let i = lines.firstIndex(where: { $0.hasPrefix(key + " =") }) else {
                throw ValidationErrorText("the built-in configuration has no \(key)")
            }
            lines[i] = "\(key) = \(value)"
        }
        let path = configDirectory + "/karstd.toml"
        try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
        daemon = try FuzzDaemon.start(durable: true, flags: "--config \(path)")
        startKB = daemon.memory()?.rss ?? 0
        canary = FuzzCanary(path: daemon.socketPath)
        canary.start()
        usleep(300_000)  // the canary holds its connection before the flood begins
    }

    /// Ends the scenario: notes the peak, closes the flood's clients, lets the daemon settle,
    /// notes the memory after, stops the canary and the daemon. Returns the table row.
    func finish(_ name: String, limit: String, happened: String, clients: [FuzzSocket]) -> FloodRow {
        let peakKB = daemon.memory()?.peak ?? 0
        for c in clients { c.close() }
        sleep(3)
        let afterKB = daemon.memory()?.rss ?? 0
        let canaryReport = canary.stop()
        let crash = daemon.hasCrashed ? (daemon.crashMessage() ?? daemon.exitDescription) : nil
        daemon.stop()
        if crash == nil { try? FileManager.default.removeItem(atPath: daemon.directory) }
        try? FileManager.default.removeItem(atPath: configDirectory)
        return FloodRow(scenario: name, limit: limit, happened: happened, startKB: startKB, peakKB: peakKB,
                        afterKB: afterKB, canary: canaryReport, crash: crash)
    }

    /// Lets this process (and so the daemons it starts, which inherit it) open `needed` files,
    /// up to the hard limit (raised too when allowed: root). Returns the soft limit in force.
    @discardableResult
    static func raiseFileLimit(to needed: Int) -> Int {
        var lim = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &lim)
        let want = rlim_t(needed)
        if lim.rlim_max < want {
            var higher = rlimit(rlim_cur: want, rlim_max: want)
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &higher) == 0 { return needed }
        }
        lim.rlim_cur = min(max(lim.rlim_cur, want), lim.rlim_max)
        setrlimit(Int32(RLIMIT_NOFILE.rawValue), &lim)
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &lim)
        return Int(lim.rlim_cur)
    }
}

/// One line of the flood table.
struct FloodRow {
    var scenario: String
    var limit: String
    var happened: String
    var startKB: Int
    var peakKB: Int
    var afterKB: Int
    var canary: FuzzCanary.Report
    /// How the daemon crashed, if it did.
    var crash: String?

    /// Served: the canary made its calls and none was late.
    var canaryServed: Bool { canary.totalCalls > 0 && canary.late == 0 }

    static let header = """
        | scenario | limit in force | what happened | daemon RSS start → peak (VmHWM) → after | canary max Ping / Submit | canary late |
        | --- | --- | --- | ---: | ---: | ---: |
        """

    var markdown: String {
        let mib = { (kb: Int) in String(format: "%.0f", Double(kb) / 1024) }
        let ms = { (call: String) in "\(fuzzMillis(canary.maxLatency[call] ?? 0)) ms" }
        let what = happened + (crash.map { " **DAEMON CRASHED: \($0)**" } ?? "")
        return "| \(scenario) | \(limit) | \(what) | \(mib(startKB)) → \(mib(peakKB)) → \(mib(afterKB)) MiB "
            + "| \(ms("Ping")) / \(ms("Submit")) | \(canary.late) of \(canary.totalCalls) |"
    }
}
