import Foundation
import GRDB
import Synchronization
import KarstCore

/// Everything a daemon needs to come back exactly where it was.
public struct StoredState: Sendable {
    public var records: [JobRecord]
    public var nextJobNumber: UInt64
    public var datacenterStates: [String: DatacenterState]
    public var generation: Int

    /// The state from its jobs and the `meta` table's rows (the next job number, the
    /// configuration generation, each data centre's state; unknown keys are ignored).
    package init(records: [JobRecord], meta: [(key: String, value: String)]) {
        var next: UInt64 = 1
        var states: [String: DatacenterState] = [:]
        var generation = 1
        for (key, value) in meta {
            if key == "next_job_number" { next = UInt64(value) ?? 1 }
            if key == "config_generation" { generation = Int(value) ?? 1 }
            if key.hasPrefix("datacenter_state:"), let s = DatacenterState(rawValue: value) {
                states[String(key.dropFirst("datacenter_state:".count))] = s
            }
        }
        self.init(records: records, nextJobNumber: next, datacenterStates: states, generation: generation)
    }

    public init(records: [JobRecord], nextJobNumber: UInt64, datacenterStates: [String: DatacenterState], generation: Int) {
        self.records = records
        self.nextJobNumber = nextJobNumber
        self.datacenterStates = datacenterStates
        self.generation = generation
    }
}

extension KarstStore {
    /// Reads the whole state.
    public func load() throws(StoreError) -> StoredState {
        do {
            return try pool.read { db in
                // Rows are read in one pass; their specs (JSON) are decoded on every core.
                var raw: [RawRow] = []
                raw.reserveCapacity(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM jobs") ?? 0)
                let rows = try Row.fetchCursor(db, sql: """
                    SELECT id, tenant, state, submitted_at, started_at, finished_at, datacenter, pool, retired_pool,
                           attempts, preemptions, message, spec, policy
                    FROM jobs ORDER BY id
                    """)
                while let row = try rows.next() {
                    raw.append(try RawRow(id: row[0], tenant: row[1], state: row[2], submittedAt: row[3], startedAt: row[4],
                                          finishedAt: row[5], datacenter: row[6], pool: row[7], retiredPool: row[8],
                                          attempts: row[9], preemptions: row[10], message: row[11], spec: row[12], policy: row[13]))
                }
                let records = try decodeSpecs(raw)
                let meta = try Row.fetchAll(db, sql: "SELECT key, value FROM meta").map { (key: $0[0] as String, value: $0[1] as String) }
                return StoredState(records: records, meta: meta)
            }
        } catch let e as StoreError {
            throw e
        } catch {
            throw .unavailable(path: path, reason: "\(error)")
        }
    }
}

/// A job row whose spec is still JSON text.
package struct RawRow: Sendable {
    package var record: JobRecord
    package var spec: String

    /// A `jobs` row's columns (as both stores have them) as a record, its spec still text.
    package init(id: Int64, tenant: String, state stateName: String, submittedAt: Int64, startedAt: Int64?, finishedAt: Int64?,
                 datacenter: String?, pool: String?, retiredPool: String?, attempts: Int, preemptions: Int, message: String?,
                 spec: String, policy: String?) throws(StoreError) {
        guard id > 0 else { throw StoreError.corrupt(reason: "a job has the id \(id): ids are positive") }
        guard let state = JobState(rawValue: stateName) else {
            throw StoreError.corrupt(reason: "job \(id) has unknown state \(stateName)")
        }
        record = JobRecord(
            id: JobID(UInt64(id)), spec: JobSpec(origin: "", priorityClass: "", resources: ResourceRequest(cpu: 0, memoryGiB: 0)),
            tenant: tenant, state: state, submittedAt: Instant(microseconds: submittedAt),
            startedAt: startedAt.map(Instant.init(microseconds:)), finishedAt: finishedAt.map(Instant.init(microseconds:)),
            placement: datacenter.flatMap { d in pool.map { (d, $0) } }, retiredPool: retiredPool,
            attempts: attempts, preemptions: preemptions, message: message)
        try PolicyCodec.decode(policy, into: &record)
        self.spec = spec
    }
}

/// Every row's record, its spec decoded, in the rows' order: the rows split over the machine's
/// cores (at most 8), each part decoded straight into its slots of the array (`RecordSlots`);
/// the first part's error if one failed.
package func decodeSpecs(_ raw: [RawRow]) throws(StoreError) -> [JobRecord] {
    let parts = max(1, min(8, ProcessInfo.processInfo.activeProcessorCount))
    let chunk = (raw.count + parts - 1) / parts
    return try RecordSlots.build(count: raw.count) { slots throws(StoreError) in
        let failures = Mutex<[Int: StoreError]>([:])
        DispatchQueue.concurrentPerform(iterations: parts) { p in
            do throws(StoreError) {
                try slots.fill(min(raw.count, p * chunk)..<min(raw.count, (p + 1) * chunk)) { i throws(StoreError) in
                    try decoded(raw[i])
                }
            } catch {
                failures.withLock { $0[p] = error }
            }
        }
        if let first = failures.withLock({ f in f.min { $0.key < $1.key } }) { throw first.value }
    }
}

/// A row's record with its spec decoded; `corrupt`, naming the job, when the spec does not decode.
package func decoded(_ row: RawRow) throws(StoreError) -> JobRecord {
    var r = row.record
    do { r.spec = try SpecCodec.decode(row.spec) } catch { throw .corrupt(reason: "job \(r.id): \(error)") }
    return r
}
