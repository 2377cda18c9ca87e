import GRDB
import KarstCore

/// A summary of a state directory, for `karstd --check-state`.
public struct StoreSummary: Sendable, CustomStringConvertible {
    public var path: String
    public var schema: [String]
    public var integrity: [String]
    public var jobsByState: [String: Int]
    public var events: Int
    public var nextJobNumber: Int
    public var bytes: Int

    public var isHealthy: Bool { integrity == ["ok"] }

    public var description: String {
        let jobs = jobsByState.values.reduce(0, +)
        var lines = ["state: \(path)", "schema: \(schema.joined(separator: ", "))",
                     "integrity: \(integrity.joined(separator: "; "))",
                     "jobs: \(jobs) (" + jobsByState.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ") + ")",
                     "events: \(events)", "next job: job-\(nextJobNumber)", "size: \(bytes / 1024) KiB"]
        if !isHealthy { lines.append("PROBLEM: the integrity check failed; restore the latest backup") }
        return lines.joined(separator: "\n")
    }
}

extension KarstStore {
    /// SQLite's integrity check plus counts.
    public func summary() throws -> StoreSummary {
        try pool.read { db in
            var byState: [String: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT state, COUNT(*) FROM jobs GROUP BY state") { byState[row[0]] = row[1] }
            let pages = try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0
            let pageSize = try Int.fetchOne(db, sql: "PRAGMA page_size") ?? 0
            return StoreSummary(
                path: path, schema: try Schema.migrator.completedMigrations(db),
                integrity: try String.fetchAll(db, sql: "PRAGMA integrity_check"), jobsByState: byState,
                events: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM events") ?? 0,
                nextJobNumber: Int(try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'next_job_number'") ?? "1") ?? 1,
                bytes: pages * pageSize)
        }
    }

    /// An online, consistent copy of the state at `destination` (SQLite's backup API, from a
    /// read snapshot: the writer is not blocked). Returns the number of jobs copied.
    public func backup(to destination: String) throws(StoreError) -> Int {
        do {
            let target = try DatabaseQueue(path: destination)
            try pool.backup(to: target)
            return try target.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM jobs") ?? 0 }
        } catch {
            throw .writeFailed(reason: "backup to \(destination) failed: \(error)")
        }
    }

    /// Deletes finished jobs and events older than `before`. Returns (jobs, events) deleted.
    public func prune(before: Instant) throws(StoreError) -> (Int, Int) {
        do {
            return try pool.write { db in
                try db.execute(sql: "DELETE FROM jobs WHERE finished_at IS NOT NULL AND finished_at < ? AND state IN ('succeeded', 'failed', 'cancelled')",
                               arguments: [before.microseconds])
                let jobs = db.changesCount
                try db.execute(sql: "DELETE FROM events WHERE at < ?", arguments: [before.microseconds])
                return (jobs, db.changesCount)
            }
        } catch {
            throw .writeFailed(reason: "\(error)")
        }
    }
}
