import Foundation
import KarstClient
import KarstConfig
import KarstProtocol
import KarstServer
import KarstStore
import KarstTesting
import Synchronization
import Testing

/// A disk that fills up or turns read-only: named errors, reads still served, nothing
/// acknowledged lost, nothing unacknowledged half-done, and writes resume when the disk does.
/// Needs root to mount a small tmpfs for the state.
@Suite(.serialized) struct StorageFailureTests {
    static var canMount: Bool { getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/bin/mount") }

    /// A tmpfs of `size` at a fresh directory; unmounted by `unmount`.
    static func mountTmpfs(size: String) throws -> String {
        let dir = shortTempDir() + "/state"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let r = try runProcess("/bin/mount", ["-t", "tmpfs", "-o", "size=\(size)", "tmpfs", dir])
        guard r.0 == 0 else { throw TestFailure("mount failed: \(r.2)") }
        return dir
    }

    static func remount(_ dir: String, _ options: String) throws {
        let r = try runProcess("/bin/mount", ["-o", "remount,\(options)", dir])
        guard r.0 == 0 else { throw TestFailure("remount failed: \(r.2)") }
    }

    static func unmount(_ dir: String) { _ = try? runProcess("/bin/umount", ["-l", dir]) }

    @Test(.enabled(if: canMount, "needs root to mount a size-limited tmpfs"))
    func aFullDiskRefusesNewWorkKeepsServingAndRecovers() async throws {
        let dir = try Self.mountTmpfs(size: "1m")
        defer { Self.unmount(dir) }
        let d = try await LiveDaemon(testConfiguration(), stateDirectory: dir)
        let c = try d.connect()
        var acknowledged: [String] = []
        var refusal: VarlinkError? = nil
        let big = String(repeating: "x", count: 4000)
        for _ in 0..<2000 {
            let reply = try { () throws -> VarlinkReply.Parsed in
                try c.send(VarlinkCall(method: "io.karst.Scheduler.Submit",
                                       parameters: jobParams(cpu: 0.001, memory: 0.001, extra: ["labels": .object(["pad": .string(big)])])).framed)
                return try c.receive()
            }()
            if let e = reply.error { refusal = e; break }
            acknowledged.append(reply.parameters.job()?.string("id") ?? "?")
        }
        #expect(refusal?.name == "io.karst.Scheduler.StorageUnavailable", "\(String(describing: refusal))")
        #expect(acknowledged.count > 10)
        // Reads are still served, and hold exactly the acknowledged jobs.
        let listed = try c.call("io.karst.Scheduler.List", ["limit": .number(100_000)])["jobs"]?.arrayValue ?? []
        #expect(listed.compactMap { $0.objectValue?["id"]?.stringValue } == acknowledged)
        // Mutations are refused fast while the disk is full.
        #expect(throws: VarlinkError.self) { try c.call("io.karst.Scheduler.Cancel", ["id": .string(acknowledged[0])]) }
        // Room again: the next write probe succeeds and work is accepted.
        try Self.remount(dir, "size=64m")
        #expect(try await eventually(5) {
            (try? c.call("io.karst.Scheduler.Submit", jobParams(cpu: 0.001, memory: 0.001))) != nil
        })
        c.close()
        try await d.stop()
        // And everything acknowledged is on disk.
        let again = try await LiveDaemon(testConfiguration(), stateDirectory: dir)
        let ids = try again.connect().call("io.karst.Scheduler.List", ["limit": .number(100_000)])["jobs"]?.arrayValue?
            .compactMap { $0.objectValue?["id"]?.stringValue } ?? []
        #expect(Array(ids.prefix(acknowledged.count)) == acknowledged)
        try await again.stop()
    }

    @Test(.enabled(if: canMount, "needs root to mount a size-limited tmpfs"))
    func aReloadInABatchThatCannotBeWrittenIsRefusedOnceAndNotApplied() throws {
        let dir = try Self.mountTmpfs(size: "1m")
        defer { Self.unmount(dir) }
        let path = shortTempDir() + "/karstd.toml"
        try ReloadTests.config.write(toFile: path, atomically: true, encoding: .utf8)
        let clock = ManualClock()
        let core = EngineCore(configuration: try KarstConfiguration.load(path: path), configPath: path, clock: clock,
                              logger: quietLogger, store: try KarstStore(directory: dir))
        let replies = Mutex<[String: [VarlinkReply.Parsed]]>([:])
        func request(_ name: String, _ method: String, _ params: JSONObject) -> EngineItem {
            let sink = CallbackSink { f in
                let parsed = try? VarlinkReply.parse(f.dropLast())
                replies.withLock { $0[name, default: []].append(parsed!) }
            }
            return try! intake(method, params, sink: sink).get()
        }
        // Jobs bigger than the whole disk together (each at its label bound): this batch's commit fails.
        let pad = String(repeating: "x", count: 4000)
        let labels: JSONValue = .object(JSONObject((0..<4).map { (key: "pad\($0)", value: JSONValue.string(pad)) }))
        let job = try #require(jobParams(extra: ["labels": labels])["job"])
        core.process([request("submit", "io.karst.Scheduler.SubmitBatch", ["jobs": .array(Array(repeating: job, count: 100))]),
                      request("reload", "io.karst.Admin.Reload", [:])], now: clock.now)
        let got = replies.withLock { $0 }
        #expect(got["submit"]?.map { $0.error?.name } == ["io.karst.Scheduler.StorageUnavailable"])
        // One answer, the refusal: not the batch's refusal and then the reload's own as well.
        #expect(got["reload"]?.map { $0.error?.name } == ["io.karst.Scheduler.StorageUnavailable"])
        // And the reload did not happen: the configuration it would have replaced is in force.
        #expect(core.generation == 1)
        #expect(core.statusLine.contains("reload FAILED, previous configuration still in force"))
    }

    @Test(.enabled(if: canMount, "needs root to mount a tmpfs and remount it read-only"))
    func aReadOnlyStateDirectoryIsRefusedAtStartWithTheReason() async throws {
        let dir = try Self.mountTmpfs(size: "8m")
        defer { Self.unmount(dir) }
        let d = try await LiveDaemon(testConfiguration(), stateDirectory: dir)
        _ = try d.connect().call("io.karst.Scheduler.Submit", jobParams())
        try await d.stop()
        // (A file system cannot be made read-only under an open database; a running daemon meets
        // the same failed writes as on a full disk, tested above.)
        try Self.remount(dir, "ro")
        let karstd = productsDirectory.appendingPathComponent("karstd").path
        let r = try runProcess(karstd, ["--state-dir", dir, "--socket", shortTempDir() + "/k.sock"])
        #expect(r.0 == 1)
        #expect(r.2.contains("read-only file system"), "\(r.2)")
        // The state itself is intact and readable.
        let check = try runProcess(karstd, ["--check-state", "--state-dir", dir])
        #expect(check.0 == 1 || check.0 == 0)
        try Self.remount(dir, "rw")
        let ok = try runProcess(karstd, ["--check-state", "--state-dir", dir])
        #expect(ok.0 == 0, "\(ok.1)\(ok.2)")
        #expect(ok.1.contains("jobs: 1"))
    }
}
