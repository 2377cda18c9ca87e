import GRDB
import GRDBSQLite

/// The group commit's row writes (the multi-row inserts of jobs and events, the job updates),
/// bound through SQLite's C API on the writer connection (GRDB's documented escape hatch,
/// `Database.sqliteConnection`).
///
/// GRDB's `StatementArguments` boxes every value in an existential, converts it and copies it
/// again to bind it, for each of the 22 values of every submitted job, inside the commit the
/// engine thread waits for. Here each value is bound straight from the record. Statements are
/// prepared once per key (the SQL text is built only then) and kept.
///
/// Text is copied once, into `TextArena`, and bound `SQLITE_STATIC`, which spares SQLite's own
/// copy of every bound string (a malloc, a copy and a free for each of thousands per commit).
/// Invariants:
/// - the arena's bytes stay put until the statement has run (`run` resets the arena only after
///   `sqlite3_step` and `sqlite3_reset`);
/// - every placeholder is bound again before each run (`run` refuses to step otherwise), so a
///   stale pointer from an earlier run is never read; bindings are therefore not cleared;
/// - nothing reads a statement's bound values outside its step: no `sqlite3_expanded_sql`, no
///   statement tracing on this connection.
///
/// Confinement: used only inside the store's write closures (the writer connection's queue).
/// `finalizeAll()` must run, on that queue, before the connection closes.
final class RowWriter: @unchecked Sendable {
    private var statements: [String: OpaquePointer] = [:]
    private let arena = TextArena()

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
            arena.reset()
        }
        var binder = RowBinder(statement: statement, arena: arena)
        bind(&binder)
        if let failure = binder.failure {
            throw DatabaseError(resultCode: ResultCode(rawValue: failure), message: String(cString: sqlite3_errmsg(connection)))
        }
        guard binder.bound == sqlite3_bind_parameter_count(statement) else {
            throw DatabaseError(message: "\(key): \(binder.bound) values bound for \(sqlite3_bind_parameter_count(statement)) placeholders")
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

/// Bytes of the text bound to one statement run, in blocks that never move: a binding's pointer
/// stays valid until `reset()`. Confined like its `RowWriter`.
///
/// Strings longer than `largest` are not stored here (the binder lets SQLite copy them), so a
/// run's text takes a bounded number of blocks; `reset()` keeps at most `keptBlocks` of them.
final class TextArena {
    static let blockSize = 256 * 1024
    static let largest = 16 * 1024
    static let keptBlocks = 4
    private var blocks: [UnsafeMutableRawBufferPointer] = []
    /// The block being filled and how much of it is used.
    private var current = 0
    private var used = 0

    deinit {
        for b in blocks { b.deallocate() }
    }

    /// Copies `bytes` in and returns where they now are (valid until `reset()`).
    func store(_ bytes: UnsafeBufferPointer<UInt8>) -> UnsafePointer<CChar> {
        if blocks.isEmpty || used + bytes.count > blocks[current].count {
            nextBlock(fitting: bytes.count)
        }
        let start = blocks[current].baseAddress! + used
        start.copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
        used += bytes.count
        return UnsafePointer(start.assumingMemoryBound(to: CChar.self))
    }

    /// Makes every byte reusable (the previous run's bindings are no longer read), and gives
    /// back the blocks beyond `keptBlocks` that an unusually large run took.
    func reset() {
        current = 0
        used = 0
        while blocks.count > Self.keptBlocks { blocks.removeLast().deallocate() }
    }

    /// Blocks held now (for tests).
    var blockCount: Int { blocks.count }

    private func nextBlock(fitting count: Int) {
        precondition(count <= Self.blockSize, "strings over TextArena.largest are bound by SQLite's own copy")
        if !blocks.isEmpty { current += 1 }
        used = 0
        if current == blocks.count {
            blocks.append(.allocate(byteCount: Self.blockSize, alignment: 16))
        }
    }
}

/// Binds values to one statement's placeholders, left to right.
struct RowBinder {
    let statement: OpaquePointer
    let arena: TextArena
    private var index: Int32 = 1
    /// The first binding error, if any (the statement is then not run).
    private(set) var failure: Int32?
    /// How many placeholders have been bound.
    var bound: Int32 { index - 1 }

    init(statement: OpaquePointer, arena: TextArena) {
        self.statement = statement
        self.arena = arena
    }

    mutating func int(_ value: Int64?) {
        note(value.map { sqlite3_bind_int64(statement, index, $0) } ?? sqlite3_bind_null(statement, index))
    }

    mutating func int(_ value: Int?) { int(value.map(Int64.init)) }

    mutating func text(_ value: String?) {
        guard var value else { return note(sqlite3_bind_null(statement, index)) }
        guard !value.isEmpty else { return note(sqlite3_bind_text(statement, index, "", 0, transient)) }
        let (statement, index, arena) = (statement, index, arena)
        note(value.withUTF8 { p in
            p.count > TextArena.largest
                // A rare long text (a spec with big labels): SQLite copies it (SQLITE_TRANSIENT).
                ? p.withMemoryRebound(to: CChar.self) { sqlite3_bind_text(statement, index, $0.baseAddress, Int32(p.count), transient) }
                // SQLITE_STATIC: the bytes are in the arena, which outlives the statement's run.
                : sqlite3_bind_text(statement, index, arena.store(p), Int32(p.count), nil)
        })
    }

    private mutating func note(_ code: Int32) {
        if code != SQLITE_OK, failure == nil { failure = code }
        index += 1
    }
}

/// `SQLITE_TRANSIENT`, which the C header defines as a cast Swift does not import.
private let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
