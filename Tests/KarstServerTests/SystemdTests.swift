import Foundation
import KarstClient
import KarstConfig
import KarstProtocol
import Synchronization
import Testing

/// The daemon binary under a test NOTIFY_SOCKET and under `systemd-socket-activate`: what
/// systemd would see and do, without needing systemd as PID 1.
@Suite(.serialized) struct SystemdTests {
    static var karstd: String { productsDirectory.appendingPathComponent("karstd").path }
    static var built: Bool { FileManager.default.isExecutableFile(atPath: karstd) }

    @Test(.enabled(if: built, "needs a built karstd"))
    func notifyWatchdogReloadAndStop() async throws {
        let dir = shortTempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let listener = try NotifyListener(path: dir + "/notify")
        let config = dir + "/karstd.toml"
        try BuiltinConfig.text.write(toFile: config, atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Self.karstd)
        p.arguments = ["--config", config, "--socket", dir + "/k.sock", "--ephemeral", "--log-level", "error"]
        var env = ProcessInfo.processInfo.environment
        env["NOTIFY_SOCKET"] = dir + "/notify"
        env["WATCHDOG_USEC"] = "1000000"
        env.removeValue(forKey: "WATCHDOG_PID")
        p.environment = env
        p.standardError = FileHandle.nullDevice
        try p.run()
        defer { if p.isRunning { p.terminate() } }

        let ready = try #require(listener.next(matching: "READY=1", within: 15), "no READY=1")
        #expect(ready.contains("STATUS=serving on"))
        // Watchdog pings at least every half interval (0.5 s).
        #expect(listener.maxGap(of: "WATCHDOG=1", over: 1.5) < 0.5)

        // A slow reload: the configuration file is a FIFO that yields its text after 1.5 s. The
        // engine (and the watchdog) must keep going meanwhile.
        try FileManager.default.removeItem(atPath: config)
        #expect(mkfifo(config, 0o600) == 0)
        kill(p.processIdentifier, SIGHUP)
        let reloading = try #require(listener.next(matching: "RELOADING=1", within: 5))
        #expect(reloading.contains("MONOTONIC_USEC="))
        #expect(listener.maxGap(of: "WATCHDOG=1", over: 1.5) < 0.5, "pings stopped during a slow reload")
        let writer = Thread {
            if let h = FileHandle(forWritingAtPath: config) {
                h.write(Data(BuiltinConfig.text.utf8))
                try? h.close()
            }
        }
        writer.start()
        let reloaded = try #require(listener.next(matching: "READY=1", within: 10))
        #expect(reloaded.contains("configuration generation 2 in force"), "\(reloaded)")

        // A bad configuration: refused, the old one stays, and STATUS= says so.
        try FileManager.default.removeItem(atPath: config)
        try "[[regions]]\nid = 1\n".write(toFile: config, atomically: true, encoding: .utf8)
        kill(p.processIdentifier, SIGHUP)
        _ = try #require(listener.next(matching: "RELOADING=1", within: 5))
        let refused = try #require(listener.next(matching: "READY=1", within: 10))
        #expect(refused.contains("reload FAILED"), "\(refused)")

        kill(p.processIdentifier, SIGTERM)
        #expect(listener.next(matching: "STOPPING=1", within: 10) != nil)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
    }

    static var socketActivate: Bool { FileManager.default.isExecutableFile(atPath: "/usr/bin/systemd-socket-activate") }

    @Test(.enabled(if: built && socketActivate, "needs a built karstd and /usr/bin/systemd-socket-activate"))
    func socketActivationByName() async throws {
        let dir = shortTempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // Three sockets, "control" in the middle: the daemon must pick them by name, not order;
        // "metrics" serves the Prometheus endpoint.
        let port = 20_000 + Int(getpid() % 1000)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/systemd-socket-activate")
        p.arguments = ["-l", dir + "/other.sock", "--fdname=other", "-l", dir + "/control.sock", "--fdname=control",
                       "-l", "127.0.0.1:\(port)", "--fdname=metrics",
                       Self.karstd, "--ephemeral", "--log-level", "error"]
        p.standardError = FileHandle.nullDevice
        try p.run()
        defer { if p.isRunning { p.terminate() }; p.waitUntilExit() }
        #expect(try await eventually { FileManager.default.fileExists(atPath: dir + "/control.sock") })
        // The first connection starts the daemon; it answers on the passed socket.
        let c = try VarlinkConnection(path: dir + "/control.sock")
        c.setReceiveTimeout(seconds: 60)
        #expect(try c.call("io.karst.Protocol.Ping", ["text": .string("activated")]).string("text") == "activated")
        #expect(try c.call("io.karst.Scheduler.Submit", jobParams(origin: "gba")).job()?.string("id") == "job-1")
        c.close()
        // Metrics are recorded when the batch's events are published, just after the replies.
        #expect(try await eventually { httpGet(port: port, path: "/metrics").contains("karst_jobs_submitted_total{class=\"batch\"} 1") })
    }
}

/// A NOTIFY_SOCKET: receives the daemon's sd_notify datagrams, with arrival times.
final class NotifyListener: @unchecked Sendable {
    let fd: Int32
    private var seen: [(Double, String)] = []
    private var cursor = 0

    init(path: String) throws {
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in for (i, b) in path.utf8.enumerated() { raw[i] = b } }
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard rc == 0 else { throw TestFailure("cannot bind \(path)") }
        var timeout = timeval(tv_sec: 0, tv_usec: 50_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    private func now() -> Double { Date().timeIntervalSince1970 }

    /// Reads whatever arrives for up to `seconds`.
    private func pump(for seconds: Double) {
        let until = now() + seconds
        var buffer = [UInt8](repeating: 0, count: 4096)
        while now() < until {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 { seen.append((now(), String(decoding: buffer[0..<n], as: UTF8.self))) }
        }
    }

    /// The next datagram (after the last one matched) containing `text`, waiting up to `within`.
    func next(matching text: String, within seconds: Double) -> String? {
        let until = now() + seconds
        while true {
            while cursor < seen.count {
                let m = seen[cursor].1
                cursor += 1
                if m.contains(text) { return m }
            }
            if now() >= until { return nil }
            pump(for: 0.05)
        }
    }

    /// Listens for `seconds` and returns the longest gap between datagrams containing `text`
    /// (from the start of the window to the first, between them, and from the last to the end).
    func maxGap(of text: String, over seconds: Double) -> Double {
        let start = now()
        let before = seen.count
        pump(for: seconds)
        let times = seen[before...].filter { $0.1.contains(text) }.map(\.0)
        cursor = seen.count
        var last = start
        var gap = 0.0
        for t in times {
            gap = max(gap, t - last)
            last = t
        }
        return max(gap, start + seconds - last)
    }
}
