import Foundation

/// The daemon under test: the release karstd that `SocketBench.socketPath()` starts beside this
/// binary on a temporary socket (its stderr captured to a log file), or one already running
/// (`--socket`). Knows its pid (`SO_PEERCRED` for one it did not start), whether it is alive,
/// and its memory. Every daemon started here is killed when this process is interrupted.
final class FuzzDaemon {
    let socketPath: String
    let pid: Int32
    /// The daemon's stderr (nil for a daemon this process did not start).
    let logPath: String?
    private let process: Process?
    private var logSizeSeen = 0
    private var crashLine: String?

    private init(socketPath: String, pid: Int32, logPath: String?, process: Process?) {
        self.socketPath = socketPath
        self.pid = pid
        self.logPath = logPath
        self.process = process
    }

    /// The temporary directory the socket is in: the campaign's own.
    var directory: String { (socketPath as NSString).deletingLastPathComponent }

    /// Starts the release karstd: persisting to `<dir>/state` when `durable`, with extra flags.
    static func start(durable: Bool, flags: String = "") throws -> FuzzDaemon {
        FuzzSignals.install()
        var bench = try SocketBench.parse(durable ? ["--durable"] : [])
        bench.daemonFlags = flags
        let log = NSTemporaryDirectory() + "karst-bench-\(getpid())-karstd-\(Int(fuzzClock() * 1000)).log"
        // The child inherits fd 2: point it at the log while the daemon is started.
        let saved = dup(2)
        let fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        dup2(fd, 2)
        close(fd)
        defer { dup2(saved, 2); close(saved) }
        let (path, process) = try bench.socketPath()
        guard let process else { throw ValidationErrorText("no daemon was started") }
        FuzzSignals.watch(process.processIdentifier)
        let daemon = FuzzDaemon(socketPath: path, pid: process.processIdentifier, logPath: log, process: process)
        try daemon.waitReady()
        return daemon
    }

    /// A daemon already serving `socket`.
    static func attach(socket: String) throws -> FuzzDaemon {
        guard case .success(let s) = FuzzSocket.connect(socket), let pid = s.peerPID else {
            throw ValidationErrorText("cannot connect to \(socket)")
        }
        return FuzzDaemon(socketPath: socket, pid: pid, logPath: nil, process: nil)
    }

    /// Waits until this daemon (the peer's pid is checked: a stale socket file, or another
    /// daemon, may be there first) answers a Ping.
    func waitReady(seconds: Double = 20) throws {
        let until = fuzzClock() + seconds
        while fuzzClock() < until, isAlive {
            if case .success(let s) = FuzzSocket.connect(socketPath), s.peerPID == pid {
                var inbox = FuzzInbox()
                if FuzzExchange.batch(s, [], token: "ready", &inbox, deadline: fuzzClock() + 2, onReply: { _, _ in }) == .done { return }
            }
            usleep(50_000)
        }
        throw ValidationErrorText("karstd on \(socketPath) did not answer a Ping within \(Int(seconds)) s (\(exitDescription))")
    }

    /// Whether the process exists and is no zombie.
    var isAlive: Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        let state = stat[stat.index(after: close)...].dropFirst().first
        return state != "Z" && state != "X"
    }

    /// Peak and current resident memory (`VmHWM`, `VmRSS`), in KiB.
    func memory() -> (peak: Int, rss: Int)? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        func field(_ name: String) -> Int? {
            status.split(separator: "\n").first { $0.hasPrefix(name + ":") }
                .flatMap { Int($0.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first ?? "") }
        }
        guard let peak = field("VmHWM"), let rss = field("VmRSS") else { return nil }
        return (peak, rss)
    }

    /// How the process ended, as far as is known.
    var exitDescription: String {
        guard let process else { return isAlive ? "running" : "gone" }
        for _ in 0..<100 where process.isRunning { usleep(10_000) }
        if process.isRunning { return isAlive ? "running" : "dead, not yet reaped" }
        let code = process.terminationStatus
        return process.terminationReason == .uncaughtSignal
            ? "killed by signal \(code) (\(String(cString: strsignal(code))))" : "exited with status \(code)"
    }

    /// Stops a daemon this process started: SIGTERM (SIGKILL at once if it crashed), then SIGKILL
    /// after `grace` seconds. Its log is removed unless it shows a crash.
    func stop(grace: Double = 20) {
        guard let process else { return }
        if process.isRunning {
            if crashMessage() != nil {
                // The backtracer has had its time (or hangs): end it and the daemon.
                let helpers = children
                kill(pid, SIGKILL)
                for child in helpers { kill(child, SIGKILL) }
            }
            process.terminate()
            let until = fuzzClock() + grace
            while process.isRunning, fuzzClock() < until { usleep(20_000) }
            if process.isRunning { kill(pid, SIGKILL) }
            process.waitUntilExit()
        }
        FuzzSignals.forget(pid)
        if crashMessage() == nil, let logPath { try? FileManager.default.removeItem(atPath: logPath) }
    }

    /// The first line of the daemon's stderr that says it crashed (`Fatal error`, the Swift
    /// backtracer's `Program crashed`), if any. A crashed thread does not always end the process
    /// at once (the backtracer runs first, and may hang), so the pid alone is not enough.
    func crashMessage() -> String? {
        if let crashLine { return crashLine }
        guard let logPath, let size = (try? FileManager.default.attributesOfItem(atPath: logPath))?[.size] as? Int,
              size != logSizeSeen else { return nil }
        logSizeSeen = size
        crashLine = log().first(where: Self.isCrashLine)
        return crashLine
    }

    private static func isCrashLine(_ line: String) -> Bool {
        line.contains("Fatal error") || line.contains("Program crashed") || line.contains("*** Signal")
    }

    /// The daemon's stderr from its crash message on: the backtrace's first lines.
    func crashExcerpt(lines n: Int = 16) -> [String] {
        let all = log()
        guard let i = all.firstIndex(where: Self.isCrashLine) else { return Array(all.suffix(n)) }
        return Array(all[i...].prefix(n))
    }

    /// Processes the daemon started (the Swift backtracer, after a crash).
    private var children: [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { child in
            guard let stat = try? String(contentsOfFile: "/proc/\(child)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return false }
            return stat[stat.index(after: close)...].split(separator: " ").dropFirst().first == Substring(String(pid))
        }
    }

    /// Dead, or said on stderr that it crashed.
    var hasCrashed: Bool { !isAlive || crashMessage() != nil }

    /// The lines of the daemon's stderr so far (warnings and errors: it logs at level error).
    func log() -> [String] {
        guard let logPath, let text = try? String(contentsOfFile: logPath, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").map(String.init)
    }
}

/// An error that is just a sentence.
struct ValidationErrorText: Error, CustomStringConvertible {
    let description: String
    init(_ text: String) { description = text }
}
