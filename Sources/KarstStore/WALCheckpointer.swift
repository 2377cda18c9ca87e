import CKarstPosix
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
///
/// Under a steady stream of commits a passive checkpoint never quite catches up (new frames
/// land while it copies), so SQLite never starts the log over: left alone, the log grows to the
/// safety net, where every commit runs a checkpoint of its own and durable throughput drops. So
/// once the log passes `restartPages` the thread follows the passive pass with a RESTART: it
/// waits (at most `restartWait`) for the writer to finish its transaction, copies the few frames
/// the passive pass left, and makes the next commit write the log from its start (same file, no
/// growth to sync).
final class WALCheckpointer: Sendable {
    /// The writer still checkpoints by itself if the log ever reaches this many pages (~80 MB).
    static let walSafetyPages = 20_000
    /// Log length (pages, ~16 MB) from which the log is started over.
    static let restartPages = 4_000
    static let restartWait: Double = 0.1
    static let interval: Double = 0.2

    private let stopped = Mutex(false)
    private let wake = DispatchSemaphore(value: 0)
    private let done = DispatchSemaphore(value: 0)

    init(path: String) throws {
        var config = Configuration()
        config.label = "karst-checkpoint"
        // PASSIVE never waits; RESTART waits this long for the writer's transaction to end.
        config.busyMode = .timeout(Self.restartWait)
        let queue = try DatabaseQueue(path: path, configuration: config)
        try queue.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        let thread = Thread { [self] in
            // Named from inside (see `Engine.start`).
            _ = karst_set_thread_name("karst-checkpt")  // (15 bytes at most)
            while !stopped.withLock({ $0 }) {
                _ = wake.wait(timeout: .now() + Self.interval)
                // A busy or failing checkpoint is retried next round; the writer's safety net
                // bounds the log meanwhile.
                try? queue.writeWithoutTransaction { db in
                    // (busy, frames in the log, frames copied)
                    let row = try Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(PASSIVE)")
                    if let frames: Int = row?[1], frames >= Self.restartPages {
                        try db.execute(sql: "PRAGMA wal_checkpoint(RESTART)")
                    }
                }
            }
            try? queue.close()
            done.signal()
        }
        thread.start()
    }

    /// Stops the thread and closes its connection; returns when both are done.
    func stop() {
        guard !stopped.withLock({ let was = $0; $0 = true; return was }) else { return }
        wake.signal()
        done.wait()
    }
}
