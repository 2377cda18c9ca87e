import GRDB
import GRDBSQLite

/// The group commit's row writes (the multi-row inserts of jobs and events, the job updates),
/// bound through SQLite's C API on the writer connection (GRDB's documented escape hatch,
/// `Database.sqliteConnection`).
///
/// GRDB's `StatementArguments` boxes every value in an existential, converts it and copies it
/// again to bind it: with 22 values per submitted job that was a third of a commit's CPU time,
/// and the commit a quarter of the engine thread's under load. Here each value is bound straight
/// from the record. Statements are prepared once per key (the SQL text is built only then) and
/// kept.
///
/// Confinement: used only inside the store's write closures (the writer connection's queue).
/// `finalizeAll()` must run, on that queue, before the connection closes.
final class RowWriter: @unchecked Sendable {
    private var statements: [String: OpaquePointer] = [:]

    /// Runs the statement kept under `key` (prepared from `sql` on first use) with values bound
    /// by `bind`.
    func run(_ db: Database, key: String, sql: @autoclosure () -> String, bind: (inout RowBinder) -> Void) throws {
        guard let connection = db.sqliteConnection else { throw DatabaseError(message: "the connection is closed") }
        let statement: OpaquePointer
        if let cached = statements[key] {
            statement = cached
        } else {
            var made: OpaquePointer? = nil
            let code = sqlite3_prepare_v3(connection, sql(), -1, UInt32(SQLITE_PREPARE_PERSISTENT), &made, nil)
            guard code == SQLITE_OK, let made else {
                throw DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(connection)))
            }
            statements[key] = made
            statement = made
        }
        defer {
            sqlite3_reset(statement)
            sqlite3_clear_bindings(statement)
        }
        var binder = RowBinder(statement: statement)
        bind(&binder)
        if let failure = binder.failure {
            throw DatabaseError(resultCode: ResultCode(rawValue: failure), message: String(cString: sqlite3_errmsg(connection)))
        }
        let code = sqlite3_step(statement)
        guard code == SQLITE_DONE else {
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(connection)))
        }
    }

    /// Finalizes every kept statement (before the connection closes).
    func finalizeAll() {
        for statement in statements.values { sqlite3_finalize(statement) }
        statements.removeAll()
    }
}

/// Binds values to one statement's placeholders, left to right.
struct RowBinder {
    let statement: OpaquePointer
    private var index: Int32 = 1
    /// The first binding error, if any (the statement is then not run).
    private(set) var failure: Int32?

    init(statement: OpaquePointer) { self.statement = statement }

    mutating func int(_ value: Int64?) {
        note(value.map { sqlite3_bind_int64(statement, index, $0) } ?? sqlite3_bind_null(statement, index))
    }

    mutating func int(_ value: Int?) { int(value.map(Int64.init)) }

    mutating func text(_ value: String?) {
        guard var value else { return note(sqlite3_bind_null(statement, index)) }
        guard !value.isEmpty else { return note(sqlite3_bind_text(statement, index, "", 0, transient)) }
        // SQLITE_TRANSIENT: SQLite copies the bytes before the closure returns.
        let (statement, index) = (statement, index)
        note(value.withUTF8 { p in
            p.withMemoryRebound(to: CChar.self) { c in
                sqlite3_bind_text(statement, index, c.baseAddress, Int32(c.count), transient)
            }
        })
    }

    private mutating func note(_ code: Int32) {
        if code != SQLITE_OK, failure == nil { failure = code }
        index += 1
    }
}

/// `SQLITE_TRANSIENT`, which the C header defines as a cast Swift does not import.
private let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
