import Foundation
import KarstConfig
import KarstCore
@testable import KarstPostgres
import KarstStore
import KarstTesting
import Logging
import PostgresNIO
import Testing

/// Schema v2 (the event log as one row per batch) against a database of the release before,
/// and the log as people read it (the `events` view). Skipped, loudly, where PostgreSQL is not
/// installed.
@Suite(.serialized, .enabled(if: PostgresHere.available, "PostgreSQL 15 is not installed (make deps installs postgresql-15)"))
struct PostgresMigrationTests {
    func store(_ c: PostgresCluster, database: String) throws -> PostgresStore {
        var s = PostgresSettings()
        s.host = c.socketDirectory
        s.port = c.port
        s.user = c.user
        s.database = database
        s.leaseSeconds = 2
        s.renewSeconds = 0.5
        return try PostgresStore(settings: s, password: nil, replica: "new", logger: Logger(label: "test"),
                                 monotonic: { Date().timeIntervalSince1970 }, timeoutSeconds: 3)
    }

    typealias EventRow = (at: Int64, job: Int64, kind: String, detail: String?)

    func events(_ store: PostgresStore) throws -> [EventRow] {
        try store.data.query("SELECT at, job_id, kind, detail FROM events ORDER BY batch, ord").rows.map {
            let (at, job, kind, detail) = try $0.decode((Int64, Int64, String, String?).self)
            return (at, job, kind, detail)
        }
    }

    /// A v1 database (events a row each) migrates: its events are in the new log, in order; v1's
    /// commit function — a replica of the release before, during an upgrade — still commits,
    /// into the new log; a v2 commit's events read back as the engine gave them; pruning
    /// counts the events of the batches it deletes.
    @Test func aVersion1DatabaseMigratesAndItsEventsAndCommitsCarryOver() throws {
        let c = try #require(PostgresHere.cluster, "PostgreSQL did not start")
        let db = "karst_v1"
        try c.psql("DROP DATABASE IF EXISTS \(db)")
        try c.psql("CREATE DATABASE \(db)")
        defer { _ = try? c.psql("DROP DATABASE IF EXISTS \(db) WITH (FORCE)") }
        // The release before's schema, as its `migrate` left it, with two events committed.
        try c.psql("CREATE TABLE karst_schema (id text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT clock_timestamp())",
                   database: db)
        for sql in PostgresSchema.migrations[0].statements { #expect(try c.psql(sql, database: db), "\(sql.prefix(60))") }
        try c.psql("INSERT INTO karst_schema (id) VALUES ('v1')", database: db)
        try c.psql("UPDATE leader SET holder = 'old', epoch = 1, expires_at = now() + interval '1 hour'", database: db)
        try c.psql("""
            SELECT karst_commit('old', 1, NULL, NULL,
                '[{"at": 5, "job_id": 1, "kind": "submitted"}, {"at": 6, "job_id": 1, "kind": "placed", "detail": "p"}]', NULL)
            """, database: db)

        let pg = try store(c, database: db)
        defer { try? pg.close() }
        #expect(try pg.schemaVersions() == ["v1", "v2"])
        #expect(try events(pg).map(\.kind) == ["submitted", "placed"])
        #expect(try events(pg).map(\.detail) == [nil, "p"])

        // The old replica, still leading during the upgrade, commits with v1's function.
        _ = try pg.data.query("""
            SELECT karst_commit('old', 1, NULL, NULL,
                '[{"at": 10, "job_id": 2, "kind": "submitted"}, {"at": 11, "job_id": 2, "kind": "cancelled", "detail": "by \\"root\\""}]',
                NULL)
            """)
        // Then the new one takes over and commits the engine's events.
        _ = try pg.data.query("UPDATE leader SET expires_at = '-infinity'")
        _ = try #require(try pg.acquire(address: nil))
        let h = try storeScenario()
        var batch = StoreBatch()
        batch.inserted = h.state.records
        batch.events = h.events
        try pg.commit(batch)

        let all = try events(pg)
        #expect(all.prefix(4).map(\.at) == [5, 6, 10, 11])
        #expect(all[3].detail == "by \"root\"")
        let engine = all.dropFirst(4)
        #expect(engine.count == h.events.count)
        for (row, e) in zip(engine, h.events) {
            #expect(row.at == e.at.microseconds && row.job == Int64(e.job.id.rawValue) && row.kind == e.kind.rawValue
                    && row.detail == e.detail)
        }
        // The v1 batch (last event at 6) goes; the compatibility batch (10–11) stays.
        #expect(try pg.prune(before: Instant(microseconds: 10)) == (0, 2))
        #expect(try events(pg).first?.at == 10)
    }
}

/// `PostgresRecord`: a row's fields from a record's binary bytes; a short or mistyped record is
/// named, never read past its end.
@Suite struct PostgresRecordTests {
    func field(_ bytes: [UInt8]?, oid: UInt32 = 25, into b: inout ByteBuffer) {
        b.writeInteger(oid)
        if let bytes {
            b.writeInteger(Int32(bytes.count))
            b.writeBytes(bytes)
        } else {
            b.writeInteger(Int32(-1))
        }
    }

    @Test func fieldsAreReadInOrderAndNullsAreNil() throws {
        var b = ByteBuffer()
        b.writeInteger(Int32(4))
        var eight = ByteBuffer(); eight.writeInteger(Int64(1 << 40))
        var four = ByteBuffer(); four.writeInteger(Int32(-7))
        field(Array(eight.readableBytesView), oid: 20, into: &b)
        field(Array("贵安".utf8), into: &b)
        field(nil, into: &b)
        field(Array(four.readableBytesView), oid: 23, into: &b)
        var r = try PostgresRecord(b)
        #expect(try r.requiredInteger() == 1 << 40)
        #expect(try r.text() == "贵安")
        #expect(try r.text() == nil)
        #expect(try r.integer() == -7)
        #expect(throws: PostgresRecord.Malformed.self) { try r.text() }
    }

    @Test func aShortOrMistypedRecordIsNamed() throws {
        var b = ByteBuffer()
        b.writeInteger(Int32(2))
        field([1, 2, 3], oid: 20, into: &b)
        b.writeInteger(UInt32(25))
        b.writeInteger(Int32(1000))  // longer than what follows
        b.writeBytes([65, 66])
        var r = try PostgresRecord(b)
        #expect(throws: PostgresRecord.Malformed.self) { try r.integer() }  // three bytes: no integer
        do {
            _ = try r.text()
            Issue.record("a field longer than the record was read")
        } catch {
            #expect("\(error)" == "field 1: not its 1000 bytes")
        }
        #expect(throws: PostgresRecord.Malformed.self) { try PostgresRecord(ByteBuffer(bytes: [0, 0])) }
        var mistyped = ByteBuffer()
        mistyped.writeInteger(Int32(1))
        field(Array("12345678".utf8), oid: 25, into: &mistyped)  // eight bytes of text, not an int8
        var m = try PostgresRecord(mistyped)
        do {
            _ = try m.integer()
            Issue.record("a text field was read as an integer")
        } catch {
            #expect("\(error)" == "field 0: not an integer (its type is OID 25)")
        }
        var nulls = ByteBuffer()
        nulls.writeInteger(Int32(1))
        field(nil, into: &nulls)
        var n = try PostgresRecord(nulls)
        #expect(throws: PostgresRecord.Malformed.self) { try n.requiredText() }
    }
}
