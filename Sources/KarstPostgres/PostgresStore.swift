import Foundation
import KarstConfig
import KarstCore
import KarstJSON
import KarstStore
import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import Synchronization

/// The state in a PostgreSQL database that several `karstd` replicas share; the one holding
/// the leader lease writes, every write fenced by the lease's epoch.
///
/// Same semantics as the SQLite store (`StateStore`): one transaction per engine batch (one
/// statement: `karst_commit_v2`), returning once the database has committed it (with the server's
/// `synchronous_commit`, durable); a failed commit wrote nothing. Two connections: one for the
/// engine's writes and reads, one for the lease, so a renewal never queues behind a large batch.
///
/// A commit is refused (`StoreError.fenced`) when this replica does not hold the lease by its own
/// clock (`LeaderTerm.mayWrite`), and by the database when another replica has taken over since
/// (SQLSTATE KA001): a leader paused past its lease commits nothing after a takeover.
public final class PostgresStore: ReplicatedStore, @unchecked Sendable {
    public let settings: PostgresSettings
    /// This replica's name in the lease.
    public let replica: String
    let group: MultiThreadedEventLoopGroup
    let data: PostgresLink
    let lease: PostgresLink
    private let term: Mutex<LeaderTerm>
    private let monotonic: @Sendable () -> Double

    /// Connects, and creates or migrates the schema; throws `newerSchema` for a database a newer
    /// Karst has migrated. `password` comes from `PostgresStore.password(for:)`.
    public init(settings: PostgresSettings, password: String?, replica: String, logger: Logger,
                monotonic: @escaping @Sendable () -> Double, timeoutSeconds: Double? = nil) throws(StoreError) {
        self.settings = settings
        self.replica = replica
        self.monotonic = monotonic
        term = Mutex(LeaderTerm(leaseSeconds: settings.leaseSeconds, renewSeconds: settings.renewSeconds))
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        var configuration: PostgresConnection.Configuration
        if settings.host.hasPrefix("/") {
            configuration = .init(unixSocketPath: settings.host + "/.s.PGSQL.\(settings.port)", username: settings.user,
                                  password: password, database: settings.database)
        } else {
            configuration = .init(host: settings.host, port: settings.port, username: settings.user, password: password,
                                  database: settings.database, tls: .disable)
        }
        // A session the server sees idle inside a transaction for longer than the lease (a paused
        // leader) is ended by the server, so its locks cannot hold up a takeover.
        configuration.options.additionalStartupParameters = [
            ("application_name", "karstd \(replica)"),
            ("idle_in_transaction_session_timeout", String(Int(settings.leaseSeconds * 1000))),
        ]
        configuration.options.connectTimeout = .seconds(Int64(max(1, settings.leaseSeconds / 2)))
        let timeout = timeoutSeconds ?? max(2, settings.leaseSeconds)
        data = PostgresLink(configuration: configuration, group: group, logger: logger, timeoutSeconds: timeout)
        lease = PostgresLink(configuration: configuration, group: group, logger: logger,
                             timeoutSeconds: min(timeout, max(0.5, settings.renewSeconds)))
        do {
            try migrate()
        } catch let e as StoreError {
            shutdown()
            throw e
        } catch {
            shutdown()
            throw .unavailable(path: location, reason: describe(error))
        }
    }

    /// `database@host:port`, for messages.
    public var location: String { "\(settings.database)@\(settings.host):\(settings.port)" }
    public var renewSeconds: Double { settings.renewSeconds }

    // MARK: Schema

    /// The migrations applied, oldest first.
    public func schemaVersions() throws -> [String] {
        try data.query("SELECT id FROM karst_schema ORDER BY applied_at, id").rows.map { try $0.decode(String.self) }
    }

    private func migrate() throws {
        try data.transaction { db in
            _ = try db.query("SELECT pg_advisory_xact_lock(\(Int64(PostgresSchema.lockKey)))")
            _ = try db.query("CREATE TABLE IF NOT EXISTS karst_schema (id text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT clock_timestamp())")
            let applied = Set(try db.query("SELECT id FROM karst_schema").rows.map { try $0.decode(String.self) })
            let known = Set(PostgresSchema.migrations.map(\.id))
            let unknown = applied.subtracting(known)
            if !unknown.isEmpty { throw StoreError.newerSchema(path: location, unknown: unknown.sorted()) }
            for m in PostgresSchema.migrations where !applied.contains(m.id) {
                for sql in m.statements { _ = try db.query(PostgresQuery(unsafeSQL: sql)) }
                _ = try db.query("INSERT INTO karst_schema (id) VALUES (\(m.id))")
            }
        }
    }

    // MARK: The lease

    /// Who holds the lease, as the database sees it now.
    public func leader() throws(StoreError) -> LeaseHolder {
        do {
            let rows = try lease.query("""
                SELECT holder, address, epoch, COALESCE(EXTRACT(EPOCH FROM (expires_at - now()))::float8, -1)
                FROM leader WHERE id = 1
                """).rows
            guard let row = rows.first else { throw StoreError.corrupt(reason: "the leader row is missing") }
            let (holder, address, epoch, expiresIn) = try row.decode((String?, String?, Int64, Double).self)
            return LeaseHolder(holder: holder, address: address, epoch: UInt64(epoch), expiresIn: expiresIn)
        } catch let e as StoreError {
            throw e
        } catch {
            throw .unavailable(path: location, reason: describe(error))
        }
    }

    /// Takes the lease if it has expired (or this replica's name holds it: a restart of this
    /// replica), with a new epoch. The epoch when taken, nil when another replica holds it.
    public func acquire(address: String?) throws(StoreError) -> UInt64? {
        let started = monotonic()
        do {
            let rows = try lease.query("""
                UPDATE leader SET holder = \(replica), address = \(address), epoch = epoch + 1,
                       expires_at = now() + make_interval(secs => \(settings.leaseSeconds))
                WHERE id = 1 AND (expires_at < now() OR holder = \(replica))
                RETURNING epoch
                """).rows
            guard let row = rows.first else { return nil }
            let epoch = UInt64(try row.decode(Int64.self))
            term.withLock { $0.held(epoch: epoch, startedAt: started) }
            return epoch
        } catch {
            throw .unavailable(path: location, reason: describe(error))
        }
    }

    /// Extends the lease held. False when it is not held any more (another replica took over):
    /// the term is over. Throws when the database cannot be reached (the term runs out by the
    /// clock if that lasts).
    public func renew() throws(StoreError) -> Bool {
        guard let epoch = term.withLock({ $0.epoch }) else { return false }
        let started = monotonic()
        do {
            let rows = try lease.query("""
                UPDATE leader SET expires_at = now() + make_interval(secs => \(settings.leaseSeconds))
                WHERE id = 1 AND holder = \(replica) AND epoch = \(Int64(epoch))
                RETURNING epoch
                """).rows
            guard !rows.isEmpty else {
                term.withLock { $0.lost() }
                return false
            }
            term.withLock { $0.held(epoch: epoch, startedAt: started) }
            return true
        } catch {
            throw .unavailable(path: location, reason: describe(error))
        }
    }

    /// Gives the lease up (a graceful stop): a standby may take over at once.
    public func release() {
        guard let epoch = term.withLock({ t in defer { t.lost() }; return t.epoch }) else { return }
        _ = try? lease.query("""
            UPDATE leader SET expires_at = '-infinity' WHERE id = 1 AND holder = \(replica) AND epoch = \(Int64(epoch))
            """)
    }

    /// This replica's term as its clock sees it.
    public var currentTerm: LeaderTerm { term.withLock { $0 } }

    public var mayWriteNow: Bool { term.withLock { $0.mayWrite(now: monotonic()) } }

    // MARK: StateStore

    public func commit(_ batch: StoreBatch) throws(StoreError) {
        guard !batch.isEmpty else { return }
        try commit(PostgresRows(batch))
    }

    public func probe(at now: Instant) throws(StoreError) {
        var rows = PostgresRows(StoreBatch())
        rows.meta = PostgresRows.meta([(key: "last_probe", value: String(now.microseconds))])
        try commit(rows)
    }

    /// One `karst_commit_v2`, fenced by this replica's term and by the database.
    private func commit(_ rows: PostgresRows) throws(StoreError) {
        let epoch = try writableEpoch()
        do {
            let i = rows.inserted, u = rows.updated
            _ = try data.query("""
                SELECT karst_commit_v2(\(replica), \(Int64(epoch)),
                    \(i.id), \(i.tenant), \(i.state), \(i.submittedAt), \(i.startedAt), \(i.finishedAt), \(i.datacenter),
                    \(i.pool), \(i.retiredPool), \(i.attempts), \(i.preemptions), \(i.message), \(i.spec), \(i.policy),
                    \(u.id), \(u.state), \(u.startedAt), \(u.finishedAt), \(u.datacenter), \(u.pool), \(u.retiredPool),
                    \(u.attempts), \(u.preemptions), \(u.message), \(u.policy),
                    \(rows.firstEventAt), \(rows.lastEventAt), \(rows.eventCount), \(rows.events), \(rows.meta)::json)
                """)
        } catch {
            throw writeError(error)
        }
    }

    /// The epoch to write under, if this replica's term, by its own clock, still allows it.
    private func writableEpoch() throws(StoreError) -> UInt64 {
        let (epoch, mayWrite) = term.withLock { ($0.epoch, $0.mayWrite(now: monotonic())) }
        guard let epoch, mayWrite else {
            throw .fenced(reason: epoch.map { "this replica's lease (epoch \($0)) may have expired: it was not renewed in time" }
                ?? "this replica does not lead")
        }
        return epoch
    }

    /// A failed write as the store says it: the database's fence (the term is over), or a
    /// failure to write.
    private func writeError(_ error: any Error) -> StoreError {
        if let e = error as? StoreError { return e }
        guard sqlState(error) == PostgresSchema.fencedState else { return .writeFailed(reason: describe(error)) }
        term.withLock { $0.lost() }
        return .fenced(reason: describe(error))
    }

    public func load() throws(StoreError) -> StoredState {
        do {
            // One snapshot (the jobs counted, then read, and the meta rows agree). Each row is
            // read as it arrives, on the connection's event loop, and every few thousand their
            // specs are decoded on other threads meanwhile, straight into their slots of the
            // array (`SpecDecoding`, `RecordSlots`). The first load (start, takeover) may take
            // the time a large state takes; a later one (reading the state back after a failed
            // write, on the engine's thread) a statement's.
            let deadline = loadedOnce.load(ordering: .relaxed) ? data.timeoutSeconds : max(data.timeoutSeconds, Self.loadSeconds)
            return try data.transaction { db in
                _ = try db.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                // The session waits, idle in this read-only transaction, while the last chunks
                // decode: not for the server to end as a paused leader's would be.
                _ = try db.query("SET LOCAL idle_in_transaction_session_timeout = 0")
                let counted = try db.query("SELECT count(*) FROM jobs").rows.first.map { try $0.decode(Int64.self) } ?? 0
                let records = try RecordSlots.build(count: Int(counted)) { slots throws(StoreError) in
                    let decoding = SpecDecoding(slots)
                    defer { decoding.wait() }
                    do {
                        try db.forEachRow(Self.jobsQuery, timeoutSeconds: deadline) { row in
                            var cells = row.makeIterator()
                            guard let cell = cells.next(), cell.format == .binary, let bytes = cell.bytes else {
                                throw StoreError.corrupt(reason: "a jobs row did not come as one binary record")
                            }
                            try decoding.add(bytes)
                        }
                    } catch let e as StoreError {
                        throw e
                    } catch {
                        throw .unavailable(path: location, reason: describe(error))
                    }
                    try decoding.finish()
                }
                loadedOnce.store(true, ordering: .relaxed)
                let meta = try db.query("SELECT key, value FROM meta").rows.map { row in
                    let (key, value) = try row.decode((String, String).self)
                    return (key: key, value: value)
                }
                return StoredState(records: records, meta: meta)
            }
        } catch let e as StoreError {
            throw e
        } catch {
            throw .unavailable(path: location, reason: describe(error))
        }
    }

    /// Each row as one record (`PostgresRecord`), read on the threads that decode the specs.
    private static let jobsQuery: PostgresQuery = """
        SELECT ROW(id, tenant, state, submitted_at, started_at, finished_at, datacenter, pool, retired_pool,
                   attempts, preemptions, message, spec, policy)
        FROM jobs ORDER BY id
        """

    /// A `jobs` row from its record's bytes, its spec still text.
    static func rawRow(_ bytes: ByteBuffer) throws(StoreError) -> RawRow {
        var c: PostgresRecord
        let id: Int64
        do {
            c = try PostgresRecord(bytes)
            id = try c.requiredInteger()
        } catch {
            throw .corrupt(reason: "a jobs row: \(error)")
        }
        do {
            let tenant = try c.requiredText(), state = try c.requiredText()
            let submitted = try c.requiredInteger(), started = try c.integer(), finished = try c.integer()
            let dc = try c.text(), pool = try c.text(), retired = try c.text()
            let attempts = try c.requiredInteger(), preemptions = try c.requiredInteger()
            let message = try c.text(), spec = try c.requiredText(), policy = try c.text()
            return try RawRow(id: id, tenant: tenant, state: state, submittedAt: submitted, startedAt: started,
                              finishedAt: finished, datacenter: dc, pool: pool, retiredPool: retired,
                              attempts: Int(attempts), preemptions: Int(preemptions), message: message,
                              spec: spec, policy: policy)
        } catch let e as PostgresRecord.Malformed {
            throw .corrupt(reason: "job \(JobID(UInt64(max(0, id)))): \(e)")
        } catch let e as StoreError {
            throw e
        } catch {
            throw .corrupt(reason: "job \(JobID(UInt64(max(0, id)))): \(error)")
        }
    }

    /// Fenced like every write: in one transaction that first holds the leader row as the
    /// current term's (`karst_commit_v2` does the same).
    public func prune(before: Instant) throws(StoreError) -> (Int, Int) {
        let epoch = try writableEpoch()
        do {
            return try data.transaction { db in
                let held = try db.query("""
                    SELECT 1 FROM leader WHERE id = 1 AND holder = \(replica) AND epoch = \(Int64(epoch)) FOR SHARE
                    """).rows
                guard !held.isEmpty else {
                    term.withLock { $0.lost() }
                    throw StoreError.fenced(reason: "\(replica) no longer leads: epoch \(epoch) has been taken over")
                }
                let jobs = try db.query("""
                    WITH gone AS (DELETE FROM jobs WHERE finished_at IS NOT NULL AND finished_at < \(before.microseconds)
                                  AND state IN ('succeeded', 'failed', 'cancelled') RETURNING 1)
                    SELECT count(*) FROM gone
                    """).rows.first.map { try $0.decode(Int64.self) } ?? 0
                // A batch of events goes once its last event is older than the cut.
                let events = try db.query("""
                    WITH gone AS (DELETE FROM event_batches WHERE last_at < \(before.microseconds) RETURNING count)
                    SELECT COALESCE(sum(count), 0)::bigint FROM gone
                    """).rows.first.map { try $0.decode(Int64.self) } ?? 0
                return (Int(jobs), Int(events))
            }
        } catch {
            throw writeError(error)
        }
    }

    /// How long the first load of the state may take before the database is judged
    /// unreachable: a million jobs take about 4 s to read here; a deadline of a statement's
    /// (`lease_seconds`) would fail a large state on a healthy database.
    static let loadSeconds = 300.0

    /// Whether a load has completed (later loads get a statement's deadline).
    private let loadedOnce = Atomic<Bool>(false)

    /// A load's rows, read and their specs decoded a chunk at a time into their slots while the
    /// rest of the rows still arrive. `add` is called on the connection's event loop; `finish`
    /// by the loader once the query is over (its last row handed over). `wait` closes the
    /// decoding — a row the connection still hands over afterwards (a query that outlived its
    /// deadline) is refused, no chunk is started — and waits for the chunks under way; it must
    /// have returned before the slots are given up, whatever happened.
    ///
    /// Chunks alternate between two serial queues, not the global one: the records' strings are
    /// allocated by the threads that decode them, and the rebuild that walks them next took
    /// 2.4 s for a million jobs spread over the global queue's many threads, 1.4 s over two.
    private final class SpecDecoding: @unchecked Sendable {
        static let chunkRows = 8192
        static let queues = [DispatchQueue(label: "karst-load-0"), DispatchQueue(label: "karst-load-1")]
        private let slots: RecordSlots
        /// The rows not yet handed to a queue, and the slot of the first (the event loop's).
        private var chunk: [ByteBuffer] = []
        private var next = 0
        private let group = DispatchGroup()
        /// Set by `wait`: no chunk starts after it.
        private let closed = Mutex(false)
        private let failures = Mutex<[Int: StoreError]>([:])

        init(_ slots: RecordSlots) { self.slots = slots }

        func add(_ row: ByteBuffer) throws(StoreError) {
            if chunk.isEmpty { chunk.reserveCapacity(Self.chunkRows) }
            chunk.append(row)
            if chunk.count == Self.chunkRows { try flush() }
        }

        private func flush() throws(StoreError) {
            guard !chunk.isEmpty else { return }
            let rows = chunk, start = next
            chunk = []
            next += rows.count
            guard next <= slots.count else {
                throw .corrupt(reason: "the load met more jobs than the \(slots.count) it counted: the table changed while it was read")
            }
            let open = closed.withLock { c in
                if !c { group.enter() }
                return !c
            }
            guard open else { throw .unavailable(path: "the load", reason: "rows came after it had ended") }
            Self.queues[(start / Self.chunkRows) % Self.queues.count].async { [self] in
                defer { group.leave() }
                do throws(StoreError) {
                    try slots.fill(start..<(start + rows.count)) { i throws(StoreError) in
                        try decoded(PostgresStore.rawRow(rows[i - start]))
                    }
                } catch {
                    failures.withLock { $0[start] = error }
                }
            }
        }

        /// Decodes the last rows and waits for every chunk; the first chunk's error if one failed.
        func finish() throws(StoreError) {
            try flush()
            wait()
            if let first = failures.withLock({ f in f.min { $0.key < $1.key } }) { throw first.value }
        }

        func wait() {
            closed.withLock { $0 = true }
            group.wait()
        }
    }

    public func close() throws {
        release()
        shutdown()
    }

    private func shutdown() {
        data.close()
        lease.close()
        try? group.syncShutdownGracefully()
    }

    /// The password the settings name: the first line of `password_file`, or of the systemd
    /// credential `password_credential` in `$CREDENTIALS_DIRECTORY`; nil when neither is set.
    public static func password(for settings: PostgresSettings,
                                environment: [String: String] = ProcessInfo.processInfo.environment) throws(StoreError) -> String? {
        let path: String
        if let file = settings.passwordFile {
            path = file
        } else if let name = settings.passwordCredential {
            guard let dir = environment["CREDENTIALS_DIRECTORY"] else {
                throw .unavailable(path: "[state.postgres] password_credential",
                                   reason: "CREDENTIALS_DIRECTORY is not set (start karstd with LoadCredential=\(name):…)")
            }
            path = dir + "/" + name
        } else {
            return nil
        }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw .unavailable(path: path, reason: "the PostgreSQL password cannot be read")
        }
        return String(text.split(separator: "\n", omittingEmptySubsequences: false).first ?? "")
    }
}
