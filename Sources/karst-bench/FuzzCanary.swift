import Foundation
import KarstClient
import KarstProtocol
import Synchronization

/// A well-behaved client beside a fuzzing campaign or a flood: on a connection of its own, at
/// least every `interval` seconds, a Ping, a Submit of a small one-second job and a Get of that
/// job, each timed. A call not answered within `lateAfter` seconds (or not at all) is late.
final class FuzzCanary: Sendable {
    /// What the canary saw.
    struct Report: Sendable {
        var calls: [String: Int] = [:]
        var maxLatency: [String: Double] = [:]
        var late = 0
        /// Error replies by name (an answer all the same).
        var errors: [String: Int] = [:]
        /// Connections lost or refused, and replies that never came.
        var failures: [String] = []

        var totalCalls: Int { calls.values.reduce(0, +) }
        var worst: Double { maxLatency.values.max() ?? 0 }

        mutating func merge(_ o: Report) {
            calls.merge(o.calls, uniquingKeysWith: +)
            maxLatency.merge(o.maxLatency, uniquingKeysWith: max)
            late += o.late
            errors.merge(o.errors, uniquingKeysWith: +)
            failures += o.failures.prefix(max(0, 10 - failures.count))
        }
    }

    let path: String
    let interval: Double
    let lateAfter: Double
    private let report = Mutex(Report())
    private let stopped = Atomic<Bool>(false)
    private let finished = DispatchGroup()

    init(path: String, interval: Double = 0.1, lateAfter: Double = 2) {
        self.path = path
        self.interval = interval
        self.lateAfter = lateAfter
    }

    func start() {
        finished.enter()
        Thread { [self] in
            loop()
            finished.leave()
        }.start()
    }

    /// Stops the canary and returns what it saw.
    func stop() -> Report {
        stopped.store(true, ordering: .relaxed)
        finished.wait()
        return report.withLock { $0 }
    }

    /// A snapshot while it runs.
    var current: Report { report.withLock { $0 } }

    private func loop() {
        var conn: VarlinkConnection?
        while !stopped.load(ordering: .relaxed) {
            let cycle = fuzzClock()
            do {
                if conn == nil {
                    conn = try VarlinkConnection(path: path)
                    conn?.setReceiveTimeout(seconds: lateAfter * 2.5)
                }
                try Self.exercise(conn!, timed)
            } catch {
                report.withLock { r in
                    if !(error is Counted) { r.late += 1 }
                    if r.failures.count < 10 { r.failures.append("\(error)") }
                }
                conn?.close()
                conn = nil
            }
            let rest = cycle + interval - fuzzClock()
            if rest > 0 { usleep(UInt32(rest * 1e6)) }
        }
        conn?.close()
    }

    /// Runs one call and records its latency; an error reply is an answer (nil), anything else
    /// (no reply, a lost connection) is rethrown.
    private func timed(_ name: String, _ call: () throws -> JSONObject) throws -> JSONObject? {
        let t = fuzzClock()
        var result: JSONObject?
        var errorName: String?
        var failure: Error?
        do { result = try call() } catch let e as VarlinkError { errorName = e.name } catch { failure = error }
        let elapsed = fuzzClock() - t
        report.withLock { r in
            r.calls[name, default: 0] += 1
            r.maxLatency[name] = max(r.maxLatency[name] ?? 0, elapsed)
            if elapsed > lateAfter || failure != nil { r.late += 1 }
            if let errorName { r.errors["\(name): \(errorName)", default: 0] += 1 }
        }
        if let failure { throw Counted(call: name, error: "\(failure)") }
        return result
    }

    /// A failed call already counted late.
    private struct Counted: Error, CustomStringConvertible {
        var call: String
        var error: String
        var description: String { "\(call): \(error)" }
    }

    /// The canary's calls: Ping, Submit, Get of the submitted job, each through `timed`.
    private static func exercise(_ c: VarlinkConnection,
                                 _ timed: (String, () throws -> JSONObject) throws -> JSONObject?) throws {
        _ = try timed("Ping") { try c.call("io.karst.Protocol.Ping", ["text": .string("canary")]) }
        let job = try timed("Submit") { try c.call("io.karst.Scheduler.Submit", Self.job) }
        if let id = job?["job"]?.objectValue?["id"]?.stringValue {
            _ = try timed("Get") { try c.call("io.karst.Scheduler.Get", ["id": .string(id)]) }
        }
    }

    /// The canary's calls once on a fresh connection: nil when all were answered without error,
    /// else what went wrong.
    static func probe(_ path: String) -> String? {
        do {
            let c = try VarlinkConnection(path: path)
            defer { c.close() }
            c.setReceiveTimeout(seconds: 5)
            try exercise(c) { _, call in try call() }
            return nil
        } catch {
            return "\(error)"
        }
    }

    /// The daemon's job counts (`Admin.Stats`), to read its memory by: "running R, pending P".
    static func jobCounts(_ path: String) -> String {
        guard let c = try? VarlinkConnection(path: path) else { return "unknown (no connection)" }
        defer { c.close() }
        c.setReceiveTimeout(seconds: 10)
        guard let stats = try? c.call("io.karst.Admin.Stats") else { return "unknown (Stats failed)" }
        let pending = stats["pending"]?.arrayValue?.compactMap { $0.objectValue?["pending"]?.numberValue }.reduce(0, +) ?? 0
        return "running \(Int(stats["running"]?.numberValue ?? 0)), pending \(Int(pending))"
    }

    static let job: JSONObject = ["job": .object([
        "name": .string("canary"), "origin": .string("gba"), "priorityClass": .string("batch"),
        "resources": .object(["cpu": .number(0.001), "memoryGiB": .number(0.001)]), "durationSeconds": .number(1),
    ])]
}
