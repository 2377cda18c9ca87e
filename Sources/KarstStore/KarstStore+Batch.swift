import GRDB
import KarstCore

/// What one engine batch changed, written as one transaction.
public struct StoreBatch: Sendable {
    /// Jobs first seen in this batch, in their state at the end of it.
    public var inserted: [JobRecord] = []
    /// Jobs seen before whose state changed, in their state at the end of the batch.
    public var updated: [JobRecord] = []
    /// The batch's events, in order.
    public var events: [Event] = []
    public var nextJobNumber: UInt64?
    public var datacenterStates: [String: DatacenterState]?
    public var generation: Int?

    public init() {}

    /// The `meta` table's rows this batch writes (`StoredState.init(records:meta:)` reads them
    /// back): the next job number, the configuration generation, each data centre's state.
    package var metaRows: [(key: String, value: String)] {
        var rows: [(key: String, value: String)] = []
        if let n = nextJobNumber { rows.append(("next_job_number", String(n))) }
        if let g = generation { rows.append(("config_generation", String(g))) }
        for (dc, state) in (datacenterStates ?? [:]).sorted(by: { $0.key < $1.key }) {
            rows.append(("datacenter_state:" + dc, state.rawValue))
        }
        return rows
    }

    public var isEmpty: Bool {
        inserted.isEmpty && updated.isEmpty && events.isEmpty && nextJobNumber == nil && datacenterStates == nil
            && generation == nil
    }
}

extension KarstStore {
    /// Writes a batch in one transaction and returns once it is durable (committed and synced).
    public func commit(_ batch: StoreBatch) throws(StoreError) {
        guard !batch.isEmpty else { return }
        do {
            try pool.write { db in
                // Many rows per statement: a large batch costs a few hundred statement runs, not
                // one per job and event.
                for chunk in batch.inserted.chunked(by: Self.jobsPerInsert) {
                    try rows.run(db, key: "jobs/\(chunk.count)", sql: Self.insertJobs(rows: chunk.count)) { b in
                        for r in chunk {
                            b.int(Int64(r.id.rawValue)); b.text(r.tenant); b.text(r.state.rawValue)
                            b.int(r.submittedAt.microseconds); b.int(r.startedAt?.microseconds)
                            b.int(r.finishedAt?.microseconds); b.text(r.placement?.datacenter)
                            b.text(r.placement?.pool); b.text(r.retiredPool); b.int(r.attempts)
                            b.int(r.preemptions); b.text(r.message); b.text(SpecCodec.encode(r.spec))
                            b.text(PolicyCodec.encode(r))
                        }
                    }
                }
                for r in batch.updated {
                    try rows.run(db, key: "update", sql: Self.updateJob) { b in
                        b.text(r.state.rawValue); b.int(r.startedAt?.microseconds); b.int(r.finishedAt?.microseconds)
                        b.text(r.placement?.datacenter); b.text(r.placement?.pool); b.text(r.retiredPool)
                        b.int(r.attempts); b.int(r.preemptions); b.text(r.message); b.text(PolicyCodec.encode(r))
                        b.int(Int64(r.id.rawValue))
                    }
                }
                for chunk in batch.events.chunked(by: Self.eventsPerInsert) {
                    try rows.run(db, key: "events/\(chunk.count)", sql: Self.insertEvents(rows: chunk.count)) { b in
                        for e in chunk {
                            b.int(e.at.microseconds); b.int(Int64(e.job.id.rawValue)); b.text(e.kind.rawValue); b.text(e.detail)
                        }
                    }
                }
                let meta = try db.cachedStatement(sql: "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)")
                for (key, value) in batch.metaRows { try meta.execute(arguments: [key, value]) }
            }
        } catch {
            throw .writeFailed(reason: "\(error)")
        }
    }

    /// Writes a heartbeat: succeeds only when the store can take writes again.
    public func probe(at now: Instant) throws(StoreError) {
        do {
            try pool.write { db in
                try db.execute(sql: "INSERT OR REPLACE INTO meta (key, value) VALUES ('last_probe', ?)",
                               arguments: [String(now.microseconds)])
            }
        } catch {
            throw .writeFailed(reason: "\(error)")
        }
    }
}

extension KarstStore {
    static let jobsPerInsert = 32
    static let eventsPerInsert = 64

    static func insertJobs(rows: Int) -> String {
        "INSERT INTO jobs (id, tenant, state, submitted_at, started_at, finished_at, datacenter, pool, retired_pool, "
            + "attempts, preemptions, message, spec, policy) VALUES "
            + Array(repeating: "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", count: rows).joined(separator: ", ")
    }

    static let updateJob = """
        UPDATE jobs SET state = ?, started_at = ?, finished_at = ?, datacenter = ?, pool = ?,
                        retired_pool = ?, attempts = ?, preemptions = ?, message = ?, policy = ?
        WHERE id = ?
        """

    static func insertEvents(rows: Int) -> String {
        "INSERT INTO events (at, job_id, kind, detail) VALUES "
            + Array(repeating: "(?, ?, ?, ?)", count: rows).joined(separator: ", ")
    }
}

extension Array {
    /// Consecutive slices of at most `size` elements.
    func chunked(by size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
    }
}
