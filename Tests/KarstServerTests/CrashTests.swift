import Foundation
import KarstClient
import KarstCore
import KarstProtocol
import Synchronization
import Testing

/// kill -9, for real: a release karstd under several clients submitting, cancelling and
/// completing as fast as they can is killed at a random moment and restarted on the same state.
/// Every acknowledged call must be reflected exactly once; a call that was never acknowledged
/// may have happened or not, but never in part.
@Suite(.serialized) struct CrashTests {
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    /// The release build (`make test` builds it): this is about the daemon people run.
    static var karstd: String? {
        for dir in [".build/release", ".build/x86_64-unknown-linux-gnu/release"] {
            let p = repoRoot.appendingPathComponent(dir).appendingPathComponent("karstd").path
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return nil
    }

    static let seeds: [UInt64] = Array(1...24)

    @Test(.enabled(if: karstd != nil, "needs the release karstd: swift build -c release --product karstd"),
          arguments: seeds)
    func everyAcknowledgedCallSurvivesKillDashNine(seed: UInt64) async throws {
        var rng = SeededRandom(seed: seed)
        let dir = shortTempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let socket = dir + "/k.sock", state = dir + "/state"
        let daemon = try Self.start(socket: socket, state: state)
        // Accepting, not merely bound: a client that connects in between is refused.
        #expect(try await eventually { (try? VarlinkConnection(path: socket)).map { $0.close(); return true } ?? false })

        let clients = (0..<4).map { CrashClient(id: $0, socket: socket, seed: seed &* 31 &+ UInt64($0)) }
        for c in clients { c.start() }
        // Kill at a random moment once the load is real (on a busy machine the clients may take
        // a while to get going; a kill before any acknowledgement would test nothing).
        _ = try await eventually(20) {
            clients.reduce(0) { n, c in n + c.log.withLock { $0.submitted.count } } >= 200
        }
        try await Task.sleep(for: .milliseconds(Int64(rng.next() % 450)))
        kill(daemon.processIdentifier, SIGKILL)
        daemon.waitUntilExit()
        for c in clients { c.join() }

        let again = try Self.start(socket: socket, state: state)
        defer { again.terminate(); again.waitUntilExit() }
        // The killed daemon's socket file is still there: wait until the new one answers.
        #expect(try await eventually { (try? VarlinkConnection(path: socket)) != nil })
        let conn = try VarlinkConnection(path: socket)
        let jobs = try conn.call("io.karst.Scheduler.List", ["limit": .number(100_000)])["jobs"]?.arrayValue ?? []

        let (acknowledgedSubmits, checkedCancels, checkedCompletes) = Self.check(jobs, clients, "seed \(seed)")
        #expect(acknowledgedSubmits > 100, "seed \(seed): the load was too light to mean anything")
        print("crash seed \(seed): \(acknowledgedSubmits) submits, \(checkedCancels) cancels, \(checkedCompletes) completions acknowledged; \(jobs.count) jobs after restart")
        conn.close()
    }

    /// Holds the jobs a daemon lists to what `clients` saw acknowledged: each acknowledged submit
    /// there exactly once under its id, each acknowledged cancel and completion applied, no job
    /// nobody sent, none twice. Returns the acknowledged submits, cancels and completions checked.
    static func check(_ jobs: [JSONValue], _ clients: [CrashClient], _ what: String) -> (Int, Int, Int) {
        var byKey: [String: [JSONObject]] = [:]
        for j in jobs {
            guard let o = j.objectValue, let key = o["spec"]?.objectValue?["labels"]?.objectValue?["op"]?.stringValue else {
                Issue.record("\(what): a job without its label: \(j)")
                continue
            }
            byKey[key, default: []].append(o)
        }
        let sent = clients.reduce(into: Set<String>()) { $0.formUnion($1.log.withLock { $0.sent }) }
        var acknowledgedSubmits = 0, checkedCancels = 0, checkedCompletes = 0
        for c in clients {
            let log = c.log.withLock { $0 }
            for (key, id) in log.submitted {
                acknowledgedSubmits += 1
                let found = byKey[key] ?? []
                #expect(found.count == 1, "\(what): acknowledged \(key) (\(id)) found \(found.count) times")
                #expect(found.first?["id"]?.stringValue == id, "\(what): \(key) has another id")
            }
            let states = Dictionary(jobs.compactMap { j -> (String, String)? in
                guard let o = j.objectValue, let id = o["id"]?.stringValue, let s = o["state"]?.stringValue else { return nil }
                return (id, s)
            }, uniquingKeysWith: { a, _ in a })
            for id in log.cancelled {
                checkedCancels += 1
                #expect(states[id] == "cancelled", "\(what): acknowledged cancel of \(id), now \(states[id] ?? "missing")")
            }
            for id in log.completed {
                checkedCompletes += 1
                #expect(states[id] == "succeeded", "\(what): acknowledged completion of \(id), now \(states[id] ?? "missing")")
            }
        }
        for (key, found) in byKey {
            #expect(sent.contains(key), "\(what): a job nobody sent: \(key)")
            #expect(found.count == 1, "\(what): \(key) stored \(found.count) times")
        }
        return (acknowledgedSubmits, checkedCancels, checkedCompletes)
    }

    static func start(socket: String, state: String) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: karstd!)
        p.arguments = ["--socket", socket, "--state-dir", state, "--log-level", "error"]
        p.standardError = FileHandle.nullDevice
        try p.run()
        return p
    }
}

/// One client hammering the daemon with pipelined windows of submits, cancels and completions,
/// recording exactly what was acknowledged.
final class CrashClient: Sendable {
    struct Log: Sendable {
        var sent: Set<String> = []
        var submitted: [(String, String)] = []  // (op key, job id)
        var cancelled: [String] = []
        var completed: [String] = []
    }

    let id: Int
    let socket: String
    let seed: UInt64
    let log = Mutex(Log())
    private let done = DispatchSemaphore(value: 0)

    init(id: Int, socket: String, seed: UInt64) {
        self.id = id
        self.socket = socket
        self.seed = seed
    }

    func start() { Thread { self.run(); self.done.signal() }.start() }
    func join() { done.wait() }

    private func run() {
        var connection: VarlinkConnection? = nil
        for _ in 0..<100 where connection == nil {
            connection = try? VarlinkConnection(path: socket)
            if connection == nil { usleep(50_000) }
        }
        guard let c = connection else { return }
        defer { c.close() }
        var rng = SeededRandom(seed: seed)
        var live: [String] = []  // acknowledged, not yet cancelled or completed
        var n = 0
        while true {
            var ops: [(kind: Int, key: String, target: String?)] = []
            var bytes: [UInt8] = []
            for _ in 0..<32 {
                let roll = rng.next() % 100
                if roll < 15, !live.isEmpty {
                    let target = live.remove(at: Int(rng.next() % UInt64(live.count)))
                    ops.append((1, "", target))
                    bytes += VarlinkCall(method: "io.karst.Scheduler.Cancel", parameters: ["id": .string(target)]).framed
                } else if roll < 30, !live.isEmpty {
                    let target = live.remove(at: Int(rng.next() % UInt64(live.count)))
                    ops.append((2, "", target))
                    bytes += VarlinkCall(method: "io.karst.Scheduler.Complete",
                                         parameters: ["id": .string(target), "outcome": .string("succeeded")]).framed
                } else {
                    n += 1
                    let key = "c\(id)-\(n)"
                    ops.append((0, key, nil))
                    bytes += VarlinkCall(method: "io.karst.Scheduler.Submit", parameters: jobParams(
                        origin: "gba", cpu: 0.001, memory: 0.001, extra: ["labels": .object(["op": .string(key)])])).framed
                    log.withLock { _ = $0.sent.insert(key) }
                }
            }
            do { try c.send(bytes) } catch { return }
            for op in ops {
                guard let reply = try? c.receive() else { return }
                guard reply.error == nil else { continue }
                let jobID = reply.parameters.job()?.string("id") ?? "?"
                log.withLock { l in
                    switch op.kind {
                    case 0: l.submitted.append((op.key, jobID))
                    case 1: l.cancelled.append(op.target!)
                    default: l.completed.append(op.target!)
                    }
                }
                if op.kind == 0 { live.append(jobID) }
            }
        }
    }
}

/// A torn write at the end of the WAL (what power loss can leave): the daemon starts, the
/// integrity check passes, and the state is the last complete commit before the tear.
@Suite(.serialized) struct TornWALTests {
    @Test(.enabled(if: CrashTests.karstd != nil, "needs the release karstd"))
    func aTruncatedWALTailRecoversToTheLastWholeCommit() async throws {
        let dir = shortTempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let socket = dir + "/k.sock", state = dir + "/state"
        let daemon = try CrashTests.start(socket: socket, state: state)
        #expect(try await eventually { (try? VarlinkConnection(path: socket)) != nil })
        let c = try VarlinkConnection(path: socket)
        for i in 0..<200 {
            _ = try c.call("io.karst.Scheduler.Submit", jobParams(origin: "gba", extra: ["name": .string("n\(i)")]))
        }
        c.close()
        kill(daemon.processIdentifier, SIGKILL)
        daemon.waitUntilExit()

        // Find the last frame of the current WAL generation (frames whose salts match the
        // header; SQLite reuses the file after a checkpoint, so stale frames may follow) and cut
        // it in half: the last commit is torn.
        let wal = state + "/karst.sqlite-wal"
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: wal)))
        func be32(_ at: Int) -> Int { bytes[at..<(at + 4)].reduce(0) { $0 << 8 | Int($1) } }
        let pageSize = be32(8)
        var valid = 0
        while 32 + (valid + 1) * (24 + pageSize) <= bytes.count {
            let frame = 32 + valid * (24 + pageSize)
            guard bytes[(frame + 8)..<(frame + 16)] == bytes[16..<24] else { break }
            valid += 1
        }
        #expect(valid > 3, "the WAL should hold commits")
        let cut = 32 + (valid - 1) * (24 + pageSize) + 24 + pageSize / 2
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: wal))
        try handle.truncate(atOffset: UInt64(cut))
        try handle.close()

        let again = try CrashTests.start(socket: socket, state: state)
        defer { again.terminate(); again.waitUntilExit() }
        #expect(try await eventually { (try? VarlinkConnection(path: socket)) != nil })
        let jobs = try VarlinkConnection(path: socket).call("io.karst.Scheduler.List", ["limit": .number(1000)])["jobs"]?
            .arrayValue ?? []
        let ids = jobs.compactMap { $0.objectValue?["id"]?.stringValue }
        #expect(ids.count > 0 && ids.count < 200, "\(ids.count) jobs after the tear")
        #expect(ids == (1...ids.count).map { "job-\($0)" }, "a prefix of whole commits")
        let names = jobs.compactMap { $0.objectValue?["spec"]?.objectValue?["name"]?.stringValue }
        #expect(names == (0..<ids.count).map { "n\($0)" })
    }
}
