import ArgumentParser
import Foundation
import KarstConfig
import KarstCore
import KarstPostgres
import KarstStore
import KarstTesting
import Logging

/// `karst-bench recovery`: how long a restart takes with N stored jobs.
struct RecoveryBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recovery",
        abstract: "Time to load N stored jobs and rebuild the scheduling state (what karstd does before READY=1).")

    @Option(help: "Stored jobs (a third running, a third pending, a third finished).")
    var jobs = 1_000_000

    @Option(help: ArgumentHelp("Where to build the store (default: a temporary directory).", valueName: "DIR"))
    var directory: String?

    @Flag(help: "Store the jobs in PostgreSQL 15 instead (a cluster of the benchmark's own, started and stopped by it; as root): what a standby does on taking over, the lease included.")
    var postgres = false

    mutating func run() throws {
        let dir = directory ?? FileManager.default.temporaryDirectory.appendingPathComponent("karst-recovery-\(getpid())").path
        defer { if directory == nil { try? FileManager.default.removeItem(atPath: dir) } }
        let topology = KarstConfiguration.builtIn().topology
        var cluster: PostgresCluster? = nil
        if postgres {
            guard PostgresCluster.possible else { throw ValidationError("--postgres: needs root and PostgreSQL 15 (make deps installs it)") }
            cluster = try PostgresCluster()
        }
        defer { cluster?.stop() }
        /// The store, as karstd opens it (a replica taking the lease, for PostgreSQL).
        func open() throws -> any StateStore {
            guard let pg = cluster else { return try KarstStore(directory: dir) }
            var settings = PostgresSettings()
            settings.host = pg.socketDirectory
            settings.port = pg.port
            settings.user = pg.user
            settings.database = pg.database
            settings.leaseSeconds = 60
            let store = try PostgresStore(settings: settings, password: nil, replica: "bench", logger: Logger(label: "bench"),
                                          monotonic: { Date().timeIntervalSince1970 }, timeoutSeconds: 600)
            guard try store.acquire(address: nil) != nil else { throw ValidationError("the benchmark's cluster has another leader") }
            return store
        }
        print("writing \(jobs) jobs to \(cluster.map { "PostgreSQL (\($0.socketDirectory))" } ?? dir)…")
        let t0 = Instant(rfc3339: "2026-07-01T00:00:00Z")!
        do {
            let store = try open()
            var rng = SeededRandom(seed: 7)
            var batch = StoreBatch()
            for i in 1...jobs {
                let spec = JobSpec(tenant: "tenant-\(i % 8)", origin: ["bth", "yrd", "gba", "cc", "local"][i % 5],
                                   priorityClass: ["critical", "online", "batch", "best-effort"][i % 4], priority: i % 7,
                                   resources: ResourceRequest(cpu: 0.01, memoryGiB: 0.01), durationSeconds: 3600)
                let submitted = t0.advanced(bySeconds: Double(i) / 1000)
                var r = JobRecord(id: JobID(UInt64(i)), spec: spec, tenant: spec.tenant!, state: .pending, submittedAt: submitted)
                switch rng.next() % 3 {
                case 0:
                    r.state = .running
                    r.startedAt = submitted
                    r.placement = ("hw-guian", "cpu")
                    r.attempts = 1
                case 1:
                    r.state = .succeeded
                    r.startedAt = submitted
                    r.finishedAt = submitted.advanced(bySeconds: 3600)
                    r.placement = ("ct-guizhou", "cpu")
                    r.attempts = 1
                default: break
                }
                batch.inserted.append(r)
                if batch.inserted.count == 50_000 || i == jobs {
                    batch.nextJobNumber = UInt64(i + 1)
                    try store.commit(batch)
                    batch = StoreBatch()
                }
            }
            try store.close()
        }
        if let pg = cluster { try pg.psql("VACUUM ANALYZE") }  // as autovacuum would have, by then
        let started = Date()
        let cpu0 = cpuSeconds()
        let store = try open()
        defer { try? store.close() }
        let stored = try store.load()
        let loaded = Date()
        let cpu1 = cpuSeconds()
        let (state, _) = try SchedulerState.restore(topology: topology, records: stored.records,
                                                    nextJobNumber: stored.nextJobNumber,
                                                    datacenterStates: stored.datacenterStates)
        let done = Date()
        let cpu2 = cpuSeconds()
        print("recovered \(stored.records.count) jobs (\(state.pendingCount) pending, \(state.runningTotal) running) "
            + "in \(ms(done.timeIntervalSince(started))) ms: read \(ms(loaded.timeIntervalSince(started))) ms "
            + "(CPU \(ms(cpu1 - cpu0)) ms), rebuild \(ms(done.timeIntervalSince(loaded))) ms (CPU \(ms(cpu2 - cpu1)) ms)")
    }
}

/// `karst-bench fsync`: this disk's fdatasync latency, the floor under a durable acknowledgement.
struct FsyncBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fsync", abstract: "fdatasync latency of a 4 KiB append in DIR (p50, p99).")

    @Option(help: "Directory on the disk to measure (default: the temporary directory).")
    var directory: String?

    @Option(help: "Samples.") var samples = 2000

    func run() throws {
        let dir = directory ?? FileManager.default.temporaryDirectory.path
        let (p50, p99) = try measureFsync(in: dir, samples: samples)
        print("fdatasync of a 4 KiB append in \(dir): p50 \(Int(p50 * 1e6)) µs, p99 \(Int(p99 * 1e6)) µs (\(samples) samples)")
    }
}

func measureFsync(in dir: String, samples: Int) throws -> (Double, Double) {
    let path = dir + "/karst-fsync-\(getpid())"
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    guard fd >= 0 else { throw ValidationError("cannot create \(path)") }
    defer { close(fd); unlink(path) }
    let page = [UInt8](repeating: 7, count: 4096)
    var times: [Double] = []
    for _ in 0..<samples {
        let t = Date()
        _ = page.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        fdatasync(fd)
        times.append(Date().timeIntervalSince(t))
    }
    times.sort()
    return (times[times.count / 2], times[Int(Double(times.count - 1) * 0.99)])
}

private func ms(_ s: Double) -> Int { Int((s * 1000).rounded()) }
