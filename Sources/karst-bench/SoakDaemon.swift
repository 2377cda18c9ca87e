import Foundation
import KarstClient
import KarstConfig
import KarstTesting
import Synchronization

/// The pid of the daemon under soak (0 when none), for the signal handlers and the watchdog.
let soakDaemonPID = Atomic<Int32>(0)

/// The karstd under soak: started by `SocketBench.socketPath` (the release binary beside this
/// one, a temporary socket, a durable temporary state directory) with a configuration file of
/// its own, killed with SIGKILL and restarted on the same state. Used by the soak's controller
/// thread only; whatever way the tool ends, the daemon is killed (`kill9`, the signal handlers).
final class SoakDaemon {
    let socket: String
    let stateDirectory: String
    let configPath: String
    private let executable: URL
    private let arguments: [String]
    private var process: Process

    /// Writes the built-in hub's configuration with `retentionSeconds` of retention and starts
    /// the daemon on it.
    init(timeScale: Double, retentionSeconds: Double) throws {
        let confDir = TemporaryDirectories.make(prefix: "karst-soak")
        configPath = confDir + "/karstd.toml"
        let line = "retention_days = 7\n"
        guard BuiltinConfig.text.contains(line) else { throw SoakFailure("the built-in configuration has no \(line)") }
        let text = BuiltinConfig.text.replacingOccurrences(of: line, with: "retention_days = \(retentionSeconds / 86_400)\n")
        try text.write(toFile: configPath, atomically: true, encoding: .utf8)
        let bench = try SocketBench.parse(["--durable", "--daemon-flags=--config \(configPath) --time-scale \(timeScale)"])
        let (path, started) = try bench.socketPath()
        guard let started else { throw SoakFailure("SocketBench did not start a daemon") }
        soakDaemonPID.store(started.processIdentifier, ordering: .sequentiallyConsistent)
        socket = path
        process = started
        executable = started.executableURL ?? URL(fileURLWithPath: "/")
        arguments = started.arguments ?? []
        let args = started.arguments ?? []
        let i = args.firstIndex(of: "--state-dir").map { $0 + 1 } ?? args.count
        stateDirectory = i < args.count ? args[i] : ""
        do {
            if stateDirectory.isEmpty { throw SoakFailure("SocketBench did not start a durable daemon") }
            try waitUntilServing()
        } catch {
            cleanUp()
            throw error
        }
    }

    var pid: Int32 { process.processIdentifier }

    /// SIGKILL, and waits for the process to be gone.
    func kill9() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        soakDaemonPID.store(0, ordering: .sequentiallyConsistent)
    }

    /// Starts the daemon again on the same socket, state and configuration.
    func restart() throws {
        let p = Process()
        p.executableURL = executable
        p.arguments = arguments
        try p.run()
        process = p
        soakDaemonPID.store(p.processIdentifier, ordering: .sequentiallyConsistent)
        try waitUntilServing()
    }

    /// Waits (at most 60 s) until a connection is accepted: after a kill the old socket file is
    /// still there, so its existence says nothing.
    private func waitUntilServing() throws {
        let deadline = monotonicSeconds() + 60
        while monotonicSeconds() < deadline {
            guard process.isRunning else { throw SoakFailure("karstd exited with status \(process.terminationStatus) while starting") }
            if let c = try? VarlinkConnection(path: socket) {
                c.close()
                return
            }
            usleep(5_000)
        }
        throw SoakFailure("karstd did not accept connections within 60 s")
    }

    /// SIGTERM, then waits up to 30 s: the exit status, or nil if it had to be killed.
    func terminate() -> Int32? {
        guard process.isRunning else { return process.terminationStatus }
        kill(process.processIdentifier, SIGTERM)
        let deadline = monotonicSeconds() + 30
        while process.isRunning && monotonicSeconds() < deadline { usleep(10_000) }
        if process.isRunning {
            kill9()
            return nil
        }
        soakDaemonPID.store(0, ordering: .sequentiallyConsistent)
        return process.terminationStatus
    }

    /// The daemon's resident set in bytes from /proc/PID/status: VmRSS and its anonymous part
    /// (RssAnon: the heap, as opposed to mapped files), or nil when it cannot be read.
    func residentBytes() -> (rss: Int, anon: Int)? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        func field(_ name: String) -> Int? {
            text.split(separator: "\n").first { $0.hasPrefix(name + ":") }?
                .split(separator: " ").dropFirst().first.flatMap { Int($0) }.map { $0 * 1024 }
        }
        guard let rss = field("VmRSS"), let anon = field("RssAnon") else { return nil }
        return (rss, anon)
    }

    /// `karstd --check-state` on the (stopped) daemon's state directory: status and output.
    func checkState() throws -> (Int32, String) {
        let p = Process()
        p.executableURL = executable
        p.arguments = ["--check-state", "--state-dir", stateDirectory]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// Kills the daemon if it still runs and removes the socket's and state's directory.
    func cleanUp() {
        kill9()
        try? FileManager.default.removeItem(atPath: (socket as NSString).deletingLastPathComponent)
    }

    /// On SIGINT, SIGTERM or SIGHUP to this tool: kill the daemon, exit 130.
    static func killOnSignals() {
        for sig in [SIGINT, SIGTERM, SIGHUP] {
            signal(sig) { _ in
                let pid = soakDaemonPID.load(ordering: .sequentiallyConsistent)
                if pid > 0 { kill(pid, SIGKILL) }
                _exit(130)
            }
        }
    }

    /// A last resort: if the run is still going at `deadline` (monotonic seconds), kill the
    /// daemon and exit 3.
    static func watchdog(deadline: Double) {
        Thread.detachNewThread {
            while monotonicSeconds() < deadline { sleep(1) }
            FileHandle.standardError.write(Data("karst-bench soak: still running at its hard deadline; giving up\n".utf8))
            let pid = soakDaemonPID.load(ordering: .sequentiallyConsistent)
            if pid > 0 { kill(pid, SIGKILL) }
            exit(3)
        }
    }
}

/// A soak run that could not go on (not a verification failure: those are collected).
struct SoakFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
