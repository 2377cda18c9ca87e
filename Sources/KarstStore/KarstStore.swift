import GRDB
import KarstCore

#if canImport(Glibc)
import Glibc
#endif

/// The daemon's durable state: SQLite in WAL mode with `synchronous = FULL`, one file
/// (`karst.sqlite`) in the state directory.
///
/// - `jobs`: each job's current state (one row per job; the spec is written once, as JSON).
/// - `events`: the append-only audit trail, prunable by age.
/// - `meta`: the next job number, data-centre states, the configuration generation.
///
/// Writes come from one thread (the engine), each batch in one transaction: that is the group
/// commit — one `fdatasync` for every call of the batch. Reads for backups use their own
/// connection and do not block the writer (WAL); checkpoints run on a thread of their own
/// (`WALCheckpointer`), off the commit path.
public final class KarstStore: @unchecked Sendable {
    public static let fileName = "karst.sqlite"
    public let directory: String
    public let path: String
    let pool: DatabasePool
    private let checkpointer: WALCheckpointer
    /// The batch's row writes, bound through the C API (see `RowWriter`).
    let rows = RowWriter()

    /// Opens (creating if needed) the store in `directory`, migrating an older schema; throws
    /// `newerSchema` for a database written by a newer version.
    public init(directory: String) throws(StoreError) {
        self.directory = directory
        path = directory + "/" + Self.fileName
        try Self.makeDirectory(directory)
        guard access(directory, W_OK) == 0 else {
            throw .unavailable(path: directory, reason: errno == EROFS ? "it is on a read-only file system"
                : "it is not writable (\(String(cString: strerror(errno))))")
        }
        var config = Configuration()
        config.busyMode = .timeout(5)
        config.label = "karst-state"
        do {
            pool = try DatabasePool(path: path, configuration: config)
            // GRDB enables WAL after `prepareDatabase` and leaves `synchronous` at NORMAL, which
            // can lose the last commits on power loss. Acknowledged means on disk: FULL.
            try pool.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA synchronous = FULL")
                try db.execute(sql: "PRAGMA wal_autocheckpoint = \(WALCheckpointer.walSafetyPages)")
            }
        } catch {
            throw .unavailable(path: directory, reason: "\(error)")
        }
        let migrator = Schema.migrator
        do {
            let unknown = try pool.read { db in try migrator.appliedIdentifiers(db).subtracting(migrator.migrations) }
            if !unknown.isEmpty { throw StoreError.newerSchema(path: path, unknown: unknown.sorted()) }
            try migrator.migrate(pool)
        } catch let e as StoreError {
            throw e
        } catch {
            throw .unavailable(path: directory, reason: "cannot prepare the schema: \(error)")
        }
        do { checkpointer = try WALCheckpointer(path: path) } catch {
            throw .unavailable(path: directory, reason: "cannot open the checkpoint connection: \(error)")
        }
    }

    deinit {
        checkpointer.stop()
        finalizeRowStatements()
    }

    /// Checkpoints the WAL and closes every connection. The store cannot be used afterwards.
    public func close() throws {
        checkpointer.stop()
        finalizeRowStatements()
        try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
        try pool.close()
    }

    /// Finalizes the row writer's statements on the writer connection's queue (before it closes).
    private func finalizeRowStatements() {
        let rows = self.rows
        pool.writeWithoutTransaction { _ in rows.finalizeAll() }
    }

    /// `PRAGMA synchronous` as the writer sees it (2 = FULL).
    public func synchronousMode() throws -> Int {
        try pool.writeWithoutTransaction { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1 }
    }

    /// The schema migrations applied, oldest first.
    public func schemaVersions() throws -> [String] {
        try pool.read { db in try Schema.migrator.completedMigrations(db) }
    }

    static func makeDirectory(_ dir: String) throws(StoreError) {
        var st = stat()
        if stat(dir, &st) == 0 {
            guard (st.st_mode & S_IFMT) == S_IFDIR else { throw .unavailable(path: dir, reason: "not a directory") }
            return
        }
        let parent = dir.lastIndex(of: "/").map { String(dir[..<$0]) } ?? ""
        if !parent.isEmpty && parent != dir { try makeDirectory(parent) }
        guard mkdir(dir, 0o750) == 0 || errno == EEXIST else {
            throw .unavailable(path: dir, reason: String(cString: strerror(errno)))
        }
    }
}
