import GRDB
import KarstCore

/// Everything a daemon needs to come back exactly where it was.
public struct StoredState: Sendable {
    public var records: [JobRecord]
    public var nextJobNumber: UInt64
    public var datacenterStates: [String: DatacenterState]
    public var generation: Int
}

extension KarstStore {
    /// Reads the whole state.
    public func load() throws(StoreError) -> StoredState {
        do {
            return try pool.read { db in
                var records: [JobRecord] = []
                records.reserveCapacity(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM jobs") ?? 0)
                let rows = try Row.fetchCursor(db, sql: """
                    SELECT id, tenant, state, submitted_at, started_at, finished_at, datacenter, pool, retired_pool,
                           attempts, preemptions, message, spec
                    FROM jobs ORDER BY id
                    """)
                while let row = try rows.next() {
                    let id: Int64 = row[0]
                    let stateName: String = row[2]
                    guard let state = JobState(rawValue: stateName) else {
                        throw StoreError.corrupt(reason: "job \(id) has unknown state \(stateName)")
                    }
                    let spec: JobSpec
                    do { spec = try SpecCodec.decode(row[12]) } catch {
                        throw StoreError.corrupt(reason: "job \(id): \(error)")
                    }
                    let dc: String? = row[6], pool: String? = row[7]
                    let started: Int64? = row[4], finished: Int64? = row[5]
                    records.append(JobRecord(
                        id: JobID(UInt64(id)), spec: spec, tenant: row[1], state: state,
                        submittedAt: Instant(microseconds: row[3]), startedAt: started.map(Instant.init(microseconds:)),
                        finishedAt: finished.map(Instant.init(microseconds:)),
                        placement: dc.flatMap { d in pool.map { (d, $0) } }, retiredPool: row[8],
                        attempts: row[9], preemptions: row[10], message: row[11]))
                }
                var next: UInt64 = 1
                var states: [String: DatacenterState] = [:]
                var generation = 1
                for row in try Row.fetchAll(db, sql: "SELECT key, value FROM meta") {
                    let key: String = row[0], value: String = row[1]
                    if key == "next_job_number" { next = UInt64(value) ?? 1 }
                    if key == "config_generation" { generation = Int(value) ?? 1 }
                    if key.hasPrefix("datacenter_state:"), let s = DatacenterState(rawValue: value) {
                        states[String(key.dropFirst("datacenter_state:".count))] = s
                    }
                }
                return StoredState(records: records, nextJobNumber: next, datacenterStates: states, generation: generation)
            }
        } catch let e as StoreError {
            throw e
        } catch {
            throw .unavailable(path: path, reason: "\(error)")
        }
    }
}
