import Foundation
import GRDB
import Synchronization

/// Keeps the write-ahead log short from a thread of its own, so the engine's commits never pay
/// for a checkpoint.
///
/// SQLite's default runs a checkpoint inside the commit that pushes the WAL past 1,000 pages:
/// that commit copies megabytes into the database file and syncs it while the batch's callers
/// wait. Here the writer's automatic checkpoint is raised to a safety net (`walSafetyPages`), and
/// this thread runs a PASSIVE checkpoint on its own connection every `interval`: it copies what
/// no reader still needs, never blocks the writer, and syncs the database file (synchronous =
/// FULL) before SQLite may reuse the log. Durability does not depend on it: a commit is durable
/// once its WAL frames are synced.
final class WALCheckpointer: Sendable {
    /// The writer still checkpoints by itself if the log ever reaches this many pages (~80 MB).
    static let walSafetyPages = 20_000
    static let interval: Double = 0.2

    private let stopped = Mutex(false)
    private let wake = DispatchSemaphore(value: 0)
    private let done = DispatchSemaphore(value: 0)

    init(path: String) throws {
        var config = Configuration()
        config.label = "karst-checkpoint"
        config.busyMode = .immediateError
        let queue = try DatabaseQueue(path: path, configuration: config)
        try queue.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        let thread = Thread { [self] in
            while !stopped.withLock({ $0 }) {
                _ = wake.wait(timeout: .now() + Self.interval)
                // A busy or failing checkpoint is retried next round; the writer's safety net
                // bounds the log meanwhile.
                try? queue.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_checkpoint(PASSIVE)") }
            }
            try? queue.close()
            done.signal()
        }
        thread.name = "karst-checkpoint"
        thread.start()
    }

    /// Stops the thread and closes its connection; returns when both are done.
    func stop() {
        guard !stopped.withLock({ let was = $0; $0 = true; return was }) else { return }
        wake.signal()
        done.wait()
    }
}
