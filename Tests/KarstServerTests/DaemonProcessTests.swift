import Foundation
import KarstClient
import KarstConfig
import KarstProtocol
import Testing

/// The real `karstd` binary: command line, signals, socket file.
@Suite struct DaemonProcessTests {
    static var built: Bool {
        FileManager.default.isExecutableFile(atPath: productsDirectory.appendingPathComponent("karstd").path)
    }

    func start(_ args: [String]) throws -> (Process, String, String) {
        let dir = shortTempDir()
        let socket = dir + "/k.sock"
        let p = Process()
        p.executableURL = productsDirectory.appendingPathComponent("karstd")
        p.arguments = ["--socket", socket, "--state-dir", dir + "/state", "--log-level", "error"] + args
        p.standardError = FileHandle.nullDevice
        try p.run()
        return (p, socket, dir)
    }

    @Test(.enabled(if: built, "needs a built karstd"))
    func sigtermAnswersWhatWasReadAndExitsZero() async throws {
        let (p, socket, dir) = try start([])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(try await eventually { FileManager.default.fileExists(atPath: socket) })
        let c = try VarlinkConnection(path: socket)
        let burst = Array([[UInt8]](repeating: VarlinkCall(method: "io.karst.Scheduler.Submit", parameters: jobParams(origin: "gba", cpu: 0.01, memory: 0.01)).framed,
                                    count: 2000).joined())
        try c.send(burst)
        _ = try c.receive()  // the daemon is busy with the burst
        kill(p.processIdentifier, SIGTERM)
        let (replies, ids, errors) = readUntilClosed(c)
        #expect(errors.isEmpty, "\(errors)")
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        #expect(replies >= 1 && replies <= 1999)
        // Replies came in order, without gaps: job-2, job-3, …
        #expect(ids == (0..<ids.count).map { "job-\($0 + 2)" })
        #expect(!FileManager.default.fileExists(atPath: socket), "the socket file is removed on exit")
    }

    /// `top -H`, `ps -L` and perf show the daemon's own threads by name (a durable daemon runs
    /// both; the names given to Foundation's `Thread.name` did not reach them here).
    @Test(.enabled(if: built, "needs a built karstd"))
    func theEngineAndCheckpointThreadsAreNamed() async throws {
        let (p, socket, dir) = try start([])
        defer {
            p.terminate()
            p.waitUntilExit()
            try? FileManager.default.removeItem(atPath: dir)
        }
        #expect(try await eventually { FileManager.default.fileExists(atPath: socket) })
        _ = try VarlinkConnection(path: socket).call("io.karst.Protocol.Ping")
        let tasks = "/proc/\(p.processIdentifier)/task"
        let names = try FileManager.default.contentsOfDirectory(atPath: tasks).compactMap {
            try? String(contentsOfFile: "\(tasks)/\($0)/comm", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        #expect(names.contains("karst-engine"), "\(names)")
        #expect(names.contains("karst-checkpt"), "\(names)")
    }

    @Test(.enabled(if: built, "needs a built karstd"))
    func metricsOverHTTPWhenAsked() async throws {
        let port = 19_000 + Int(getpid() % 1000)
        let (p, socket, dir) = try start(["--metrics-listen", "127.0.0.1:\(port)"])
        defer {
            p.terminate()
            p.waitUntilExit()
            try? FileManager.default.removeItem(atPath: dir)
        }
        #expect(try await eventually { FileManager.default.fileExists(atPath: socket) })
        _ = try VarlinkConnection(path: socket).call("io.karst.Scheduler.Submit", jobParams(origin: "gba"))
        // The engine answers a batch's calls before it counts the batch's events, so a scrape
        // right after the reply may still show the series at 0 (every class's is there from the
        // start): wait for the count, not for the series.
        var body = ""
        _ = try await eventually {
            body = httpGet(port: port, path: "/metrics")
            return body.contains("karst_jobs_submitted_total{class=\"batch\"} 1")
        }
        #expect(body.contains("karst_jobs_submitted_total{class=\"batch\"} 1"), "\(body.prefix(2000))")
    }

    @Test(.enabled(if: built, "needs a built karstd"))
    func aListenerThatCannotBindStopsTheDaemonWithTheReason() throws {
        let karstd = productsDirectory.appendingPathComponent("karstd").path
        let dir = shortTempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // The port is taken (by a listener of this test) for the metrics, then for remote agents.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var size = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, size) == 0 && listen(fd, 1) == 0 && getsockname(fd, $0, &size) == 0 }
        }
        try #require(bound)
        let port = Int(UInt16(bigEndian: addr.sin_port))
        // Before, the daemon served on without its metrics and hung on SIGTERM.
        let metrics = try runProcess("/usr/bin/timeout", ["-s", "KILL", "20", karstd, "--socket", dir + "/k.sock", "--ephemeral",
                                                          "--metrics-listen", "127.0.0.1:\(port)"])
        #expect(metrics.0 == 1)
        #expect(metrics.2.contains("metrics on 127.0.0.1:\(port): cannot listen there"), "\(metrics.2)")
        try """
            [agents]
            listen = "127.0.0.1:\(port)"
            ca = "\(dir)/missing.pem"
            certificate = "\(dir)/missing.pem"
            key = "\(dir)/missing.key"
            """.write(toFile: dir + "/agents.toml", atomically: true, encoding: .utf8)
        let toml = BuiltinConfig.text + "\n" + (try String(contentsOfFile: dir + "/agents.toml", encoding: .utf8))
        try toml.write(toFile: dir + "/karstd.toml", atomically: true, encoding: .utf8)
        let check = try runProcess(karstd, ["--check-config", dir + "/karstd.toml"])
        #expect(check.0 == 1)
        #expect(check.2.contains("[agents] certificate = \"\(dir)/missing.pem\": not a readable PEM file"), "\(check.2)")
    }

    @Test(.enabled(if: built, "needs a built karstd"))
    func badCommandLinesAndConfigsExitOne() throws {
        let karstd = productsDirectory.appendingPathComponent("karstd").path
        let dir = shortTempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "[[regions]]\nid = 1\n".write(toFile: dir + "/bad.toml", atomically: true, encoding: .utf8)
        let check = try runProcess(karstd, ["--check-config", dir + "/bad.toml"])
        #expect(check.0 == 1)
        #expect(check.2.contains("regions[0].id: expected a string, found integer"))
        let run = try runProcess(karstd, ["--config", dir + "/bad.toml", "--socket", dir + "/k.sock"])
        #expect(run.0 == 1)
        #expect(try runProcess(karstd, ["--time-scale", "0"]).0 == 64)
    }
}

/// Reads replies until the daemon closes the connection: (count, job ids, errors).
func readUntilClosed(_ c: VarlinkConnection) -> (Int, [String], [String]) {
    var count = 0
    var ids: [String] = []
    var errors: [String] = []
    while let r = try? c.receive() {
        count += 1
        if let e = r.error { errors.append("\(e)") }
        if let id = r.parameters.job()?.string("id") { ids.append(id) }
    }
    return (count, ids, errors)
}

/// A minimal HTTP/1.0 GET on loopback; returns the whole response (headers and body) or "".
func httpGet(port: Int, path: String) -> String {
    let response = loopbackExchange(port: port, Array("GET \(path) HTTP/1.0\r\nHost: localhost\r\n\r\n".utf8))
    return String(decoding: response ?? [], as: UTF8.self)
}

/// Sends `request` to 127.0.0.1:`port` over plain TCP and returns everything read until the
/// peer closed (5 s without data at most); nil when the connection failed.
func loopbackExchange(port: Int, _ request: [UInt8]) -> [UInt8]? {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = in_port_t(UInt16(port).bigEndian)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    let rc = withUnsafePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard rc == 0 else { return nil }
    var timeout = timeval(tv_sec: 5, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    var out: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65_536)
    while true {
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n <= 0 { break }
        out += buffer[0..<n]
    }
    return out
}
