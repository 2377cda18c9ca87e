import ArgumentParser
import Foundation
import KarstClient
import KarstConfig
import KarstProtocol
import KarstTesting
import Synchronization

/// `karst-bench socket`: Submit round trips and pipelined throughput against a running karstd.
struct SocketBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "socket",
        abstract: "Submit latency and pipelined throughput over the control socket.",
        discussion: """
            Without --socket, starts the release karstd built beside this binary on a temporary socket
            (built-in topology, warnings only) and stops it afterwards.
            """)

    @Option(help: ArgumentHelp("Benchmark an already running daemon.", valueName: "PATH"))
    var socket: String?

    @Option(help: "Sequential calls for the latency measurement.")
    var latencyCalls = 20_000

    @Option(help: "Submits per throughput run.")
    var calls = 200_000

    @Option(help: "Calls in flight per client.")
    var window = 64

    @Option(parsing: .upToNextOption, help: "Client counts for the throughput runs.")
    var clients: [Int] = [1, 4, 16]

    @Option(help: ArgumentHelp("Extra flags for the daemon this benchmark starts.", valueName: "FLAGS"))
    var daemonFlags: String = ""

    @Flag(help: "Persist: the daemon this benchmark starts keeps its state in a temporary directory (group commit, synchronous=FULL).")
    var durable = false

    @Flag(help: "Persist in PostgreSQL 15 instead: a cluster of the benchmark's own (fsync on, synchronous commit), started and stopped by it, as root; its own commit latency measured with pgbench first.")
    var postgres = false

    mutating func run() throws {
        var cluster: PostgresCluster? = nil
        if postgres {
            guard socket == nil else { throw ValidationError("--postgres starts a daemon of its own: not with --socket") }
            guard PostgresCluster.possible else { throw ValidationError("--postgres: needs root and PostgreSQL 15 (make deps installs it)") }
            let pg = try PostgresCluster()
            cluster = pg
            try pgbench(pg)
        }
        defer { cluster?.stop() }
        let (path, daemon) = try socketPath(cluster)
        defer {
            if let daemon {
                daemon.terminate()
                daemon.waitUntilExit()
                // The daemon's socket and (with --durable) its whole state: hundreds of MB.
                try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent)
            }
        }
        if durable, socket == nil, cluster == nil {
            let (p50, p99) = try measureFsync(in: FileManager.default.temporaryDirectory.path, samples: 2000)
            print("this disk: fdatasync p50 \(Int(p50 * 1e6)) µs, p99 \(Int(p99 * 1e6)) µs "
                + "(target for a lone client's p99 acknowledgement: ≤ \(Int(p99 * 2e6) + 100) µs)\n")
        }
        let frame = submitFrame()
        // Warm up (and check the daemon answers).
        let warm = try VarlinkConnection(path: path)
        for _ in 0..<1000 { try roundTrip(warm, frame) }
        warm.close()

        let ping = VarlinkCall(method: "io.karst.Protocol.Ping").framed
        let base = try latencies(path, ping)
        let lat = try latencies(path, frame)
        print("Round trip, one client, one call at a time (\(latencyCalls) calls each):")
        print("  Submit  p50 \(micros(percentile(lat, 0.50))) µs   p90 \(micros(percentile(lat, 0.90))) µs   "
            + "p99 \(micros(percentile(lat, 0.99))) µs   max \(micros(lat.last ?? 0)) µs")
        print("  Ping    p50 \(micros(percentile(base, 0.50))) µs   p90 \(micros(percentile(base, 0.90))) µs   "
            + "p99 \(micros(percentile(base, 0.99))) µs   (answered by the connection, no engine: the transport's share)")
        print("\nPipelined Submit throughput (\(calls) calls per run, window \(window) per client):")
        for n in clients {
            let rate = try throughput(path, frame, clients: n)
            print("  \(n) client\(n == 1 ? " " : "s")\(n < 10 ? " " : "")  \(Int(rate.rounded())) submits/s")
        }
    }

    func socketPath(_ cluster: PostgresCluster? = nil) throws -> (String, Process?) {
        if let socket { return (socket, nil) }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("karst-bench-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let path = dir + "/k.sock"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
            .deletingLastPathComponent().appendingPathComponent("karstd")
        var state = durable ? ["--state-dir", dir + "/state"] : ["--ephemeral"]
        if let pg = cluster {
            // The built-in hub, its state in the cluster (a replica alone: it leads at once).
            let config = pg.replicaConfiguration(BuiltinConfig.text, replica: "bench")
            try config.write(toFile: dir + "/karstd.toml", atomically: true, encoding: .utf8)
            state = ["--config", dir + "/karstd.toml", "--state-dir", dir + "/state"]
        }
        p.arguments = ["--socket", path, "--log-level", "error"] + state + daemonFlags.split(separator: " ").map(String.init)
        try p.run()
        // Until it leads (a replica), the socket answers NotLeader.
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if let c = try? VarlinkConnection(path: path) {
                defer { c.close() }
                if (try? c.call("io.karst.Protocol.Ping")) != nil { break }
            }
            usleep(20_000)
        }
        let persisting = cluster.map { "persisting to PostgreSQL at \($0.socketDirectory)" }
            ?? (durable ? "persisting to \(dir)/state" : "not persisting")
        print("started \(p.executableURL!.path) (pid \(p.processIdentifier)) on \(path), \(persisting)\n")
        return (path, p)
    }

    /// The database's own commit latency, the floor under an acknowledgement: pgbench, one
    /// client, a one-row INSERT per transaction (synchronous commit, fsync on), p50 and p99.
    func pgbench(_ pg: PostgresCluster) throws {
        let dir = pg.dir + "/pgbench"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        guard try pg.psql("CREATE TABLE bench_commit (id bigserial PRIMARY KEY, at timestamptz DEFAULT now())") else {
            throw ValidationError("pgbench: cannot create its table (see \(pg.log))")
        }
        try "INSERT INTO bench_commit DEFAULT VALUES;\n".write(toFile: dir + "/commit.sql", atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: PostgresCluster.bin + "/pgbench")
        p.arguments = ["-n", "-h", pg.socketDirectory, "-p", String(pg.port), "-U", pg.user, "-d", pg.database,
                       "-c", "1", "-t", "5000", "-f", dir + "/commit.sql", "-l", "--log-prefix=" + dir + "/log"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw ValidationError("pgbench exited \(p.terminationStatus)") }
        // Each line: client, transaction, latency in µs, script, epoch seconds, µs.
        let files = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix("log") }
        let latencies = try files.flatMap { f in
            try String(contentsOfFile: dir + "/" + f, encoding: .utf8).split(separator: "\n").compactMap { line in
                line.split(separator: " ").dropFirst(2).first.flatMap { Double($0) }.map { $0 / 1e6 }
            }
        }.sorted()
        guard !latencies.isEmpty else { throw ValidationError("pgbench logged no transactions") }
        print("this database: pgbench, one client, one-row INSERT per commit (\(latencies.count) transactions): "
            + "p50 \(micros(percentile(latencies, 0.50))) µs, p99 \(micros(percentile(latencies, 0.99))) µs\n")
    }

    /// A small CPU job with no duration: it stays running, so the hub fills slowly and every
    /// submit is placed (1 milli-core, 1 MiB).
    func submitFrame() -> [UInt8] {
        VarlinkCall.frame(method: "io.karst.Scheduler.Submit") { w in
            w.key("job")
            WireJobSpec(origin: "gba", priorityClass: "batch",
                        resources: WireResources(cpu: 0.001, memoryGiB: 0.001)).write(to: &w)
        }
    }

    func roundTrip(_ c: VarlinkConnection, _ frame: [UInt8]) throws {
        try c.send(frame)
        let r = try c.receive()
        if let e = r.error { throw e }
    }

    func latencies(_ path: String, _ frame: [UInt8]) throws -> [Double] {
        let c = try VarlinkConnection(path: path)
        defer { c.close() }
        var out: [Double] = []
        out.reserveCapacity(latencyCalls)
        for _ in 0..<latencyCalls {
            let t = monotonicSeconds()
            try roundTrip(c, frame)
            out.append(monotonicSeconds() - t)
        }
        return out.sorted()
    }

    func throughput(_ path: String, _ frame: [UInt8], clients n: Int) throws -> Double {
        let perClient = calls / n
        let window = self.window
        let failures = Mutex<[String]>([])
        let connections = try (0..<n).map { _ in try VarlinkConnection(path: path) }
        let finished = DispatchGroup()
        let start = monotonicSeconds()
        let threads = connections.map { c in
            finished.enter()
            return Thread {
                defer { finished.leave() }
                let burst = Array([[UInt8]](repeating: frame, count: window).joined())
                var done = 0
                do {
                    while done < perClient {
                        let k = min(window, perClient - done)
                        try c.send(k == window ? burst : Array(burst.prefix(frame.count * k)))
                        for _ in 0..<k {
                            let r = try c.receive()
                            if let e = r.error { throw e }
                        }
                        done += k
                    }
                } catch {
                    failures.withLock { $0.append("\(error)") }
                }
            }
        }
        for t in threads { t.start() }
        finished.wait()
        let elapsed = monotonicSeconds() - start
        for c in connections { c.close() }
        if let f = failures.withLock({ $0.first }) { throw ValidationError("a client failed: \(f)") }
        return Double(perClient * n) / elapsed
    }
}
