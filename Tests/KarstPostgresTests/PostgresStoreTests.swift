import Foundation
import KarstConfig
import KarstCore
import KarstPostgres
import KarstStore
import KarstTesting
import Logging
import Synchronization
import Testing

/// The PostgreSQL store against a real PostgreSQL 15 of the test's own (`PostgresCluster`):
/// the same state as the SQLite store for the same batches, the lease and its fence, a
/// database that stops and comes back. Skipped, loudly, where PostgreSQL is not installed.
/// Whether PostgreSQL can run here; says so when it cannot.
enum PostgresHere {
    static let available: Bool = {
        if !PostgresCluster.possible { print("SKIPPED: the PostgreSQL tests need PostgreSQL 15 (/usr/lib/postgresql/15/bin) and root") }
        return PostgresCluster.possible
    }()

    /// One server for the suites (started on first use).
    static let cluster: PostgresCluster? = try? PostgresCluster()
}

@Suite(.serialized, .enabled(if: PostgresHere.available, "PostgreSQL 15 is not installed (make deps installs postgresql-15)"))
struct PostgresStoreTests {
    static var cluster: PostgresCluster? { PostgresHere.cluster }

    /// A clock the test moves.
    final class TestClock: Sendable {
        let now = Mutex(1000.0)
        func advance(_ s: Double) { now.withLock { $0 += s } }
        var read: @Sendable () -> Double { { [self] in now.withLock { $0 } } }
    }

    func settings(_ c: PostgresCluster, lease: Double = 2, renew: Double = 0.5) -> PostgresSettings {
        var s = PostgresSettings()
        s.host = c.socketDirectory
        s.port = c.port
        s.user = c.user
        s.database = c.database
        s.leaseSeconds = lease
        s.renewSeconds = renew
        return s
    }

    func store(_ name: String, _ c: PostgresCluster, clock: TestClock? = nil, lease: Double = 2) throws -> PostgresStore {
        let wall: @Sendable () -> Double = { Date().timeIntervalSince1970 }
        return try PostgresStore(settings: settings(c, lease: lease, renew: lease / 4), password: nil, replica: name,
                                 logger: Logger(label: "test"), monotonic: clock?.read ?? wall, timeoutSeconds: 3)
    }

    /// Empties the tables between tests (one cluster serves the suite).
    func fresh() throws -> PostgresCluster {
        let c = try #require(Self.cluster, "PostgreSQL did not start")
        try c.psql("""
            DO $$ BEGIN
              IF to_regclass('jobs') IS NOT NULL THEN
                TRUNCATE jobs, event_batches, meta;
                UPDATE leader SET holder = NULL, address = NULL, expires_at = '-infinity';
              END IF;
            END $$
            """)
        return c
    }

    @Test func theSchemaIsCreatedOnceAndANewerOneIsRefused() throws {
        let c = try fresh()
        let a = try store("a", c)
        let b = try store("b", c)
        #expect(try a.schemaVersions() == ["v1", "v2"])
        #expect(try b.schemaVersions() == ["v1", "v2"])
        try a.close()
        try b.close()
        try c.psql("INSERT INTO karst_schema (id) VALUES ('v99')")
        defer { _ = try? c.psql("DELETE FROM karst_schema WHERE id = 'v99'") }
        #expect {
            _ = try store("a", c)
        } throws: { error in
            guard case StoreError.newerSchema(_, let unknown) = error else { return false }
            return unknown == ["v99"]
        }
    }

    /// The same batches, committed to both stores, load back as the same state.
    @Test func whatIsCommittedLoadsBackAsTheSQLiteStoreHasIt() throws {
        let c = try fresh()
        let pg = try store("a", c)
        defer { try? pg.close() }
        #expect(try pg.acquire(address: "unix:/run/karst/karstd.sock") != nil)
        let sqlite = try KarstStore(directory: TemporaryDirectories.make(prefix: "karst-pg-sqlite"))
        let h = try storeScenario()
        var batches: [StoreBatch] = []
        var first = StoreBatch()
        first.inserted = h.state.records
        // A spec's text is stored as JSON, where a NUL byte is escaped: it comes back whole.
        first.inserted[0].spec.labels["note"] = "a\u{0}b \"贵安\" \\"
        first.inserted[0].spec.name = "nul\u{0}name"
        first.events = h.events
        first.nextJobNumber = h.state.nextJobNumberValue
        first.datacenterStates = ["a": .draining, "b": .active]
        first.generation = 4
        batches.append(first)
        var second = StoreBatch()
        var r = h.state.records[1]
        r.state = .cancelled
        r.finishedAt = h.now
        r.message = "cancelled by \"root\"\n\u{1}é"
        second.updated = [r]
        second.datacenterStates = ["a": .active, "b": .active]
        batches.append(second)
        for b in batches {
            try pg.commit(b)
            try sqlite.commit(b)
        }
        let fromPG = try pg.load(), fromSQLite = try sqlite.load()
        #expect(fromPG.records == fromSQLite.records)
        #expect(fromPG.records[1] == r)
        #expect(fromPG.nextJobNumber == fromSQLite.nextJobNumber && fromPG.generation == 4)
        #expect(fromPG.datacenterStates == ["a": .active, "b": .active])
    }

    /// A load larger than the chunks its specs are decoded in (while the rows still arrive)
    /// comes back whole and in order; a spec that does not decode names its job.
    @Test func aLargeLoadComesBackInOrderAndABadSpecIsNamed() throws {
        let c = try fresh()
        let pg = try store("a", c)
        defer { try? pg.close() }
        #expect(try pg.acquire(address: nil) != nil)
        let h = try storeScenario()
        let template = h.state.records[0]
        var batch = StoreBatch()
        for i in 1...20_000 {
            var r = template
            r.id = JobID(UInt64(i))
            r.spec.name = "job \(i)"
            r.spec.labels = ["i": "\(i)"]
            batch.inserted.append(r)
        }
        batch.nextJobNumber = 20_001
        try pg.commit(batch)
        let loaded = try pg.load().records
        #expect(loaded.count == 20_000)
        #expect(loaded == batch.inserted, "the first difference: \(String(describing: zip(loaded, batch.inserted).first { $0 != $1 }))")
        #expect(try c.psql("UPDATE jobs SET spec = '{\"origin\": 7}' WHERE id = 12345"))
        #expect(throws: StoreError.self) { _ = try pg.load() }
        do { _ = try pg.load() } catch { #expect("\(error)".contains("job-12345"), "\(error)") }
    }

    @Test func onlyTheLeaseHolderWritesAndATakeoverFencesTheOldLeader() throws {
        let c = try fresh()
        let clockA = TestClock()
        let a = try store("a", c, clock: clockA)
        let b = try store("b", c)
        defer { try? a.close(); try? b.close() }
        var batch = StoreBatch()
        batch.nextJobNumber = 7

        let epochA = try #require(try a.acquire(address: "a.sock"))
        #expect(try b.acquire(address: "b.sock") == nil, "the lease is held")
        let seen = try b.leader()
        #expect(seen.holder == "a" && seen.address == "a.sock" && seen.epoch == epochA && seen.isHeld, "\(seen)")
        #expect(seen.expiresIn > 1 && seen.expiresIn <= 2, "\(seen.expiresIn) s left of a 2 s lease")
        try a.commit(batch)
        #expect(throws: StoreError.self) { try b.commit(batch) }

        // a renews on time; then stops renewing. Its own clock has not moved (as if paused):
        // it would still write — the database must refuse it once b has taken over.
        #expect(try a.renew())
        Thread.sleep(forTimeInterval: 2.2)
        let epochB = try #require(try b.acquire(address: "b.sock"))
        #expect(epochB == epochA + 1)
        #expect(a.currentTerm.mayWrite(now: clockA.read()), "a's clock says it still leads")
        #expect {
            try a.commit(batch)
        } throws: { error in
            guard case StoreError.fenced(let reason) = error else { return false }
            return reason.contains("taken over")
        }
        #expect(try a.renew() == false, "a's renewal fails: b holds the lease")
        #expect(!a.currentTerm.mayWrite(now: clockA.read()))
        try b.commit(batch)
    }

    /// Pruning deletes rows: a write like the others, fenced by the database after a takeover.
    @Test func pruningIsFencedLikeEveryWrite() throws {
        let c = try fresh()
        let clockA = TestClock()
        let a = try store("a", c, clock: clockA)
        let b = try store("b", c)
        defer { try? a.close(); try? b.close() }
        _ = try #require(try a.acquire(address: nil))
        #expect(try a.prune(before: Instant(microseconds: 0)) == (0, 0))
        Thread.sleep(forTimeInterval: 2.2)
        _ = try #require(try b.acquire(address: nil))
        #expect(a.currentTerm.mayWrite(now: clockA.read()), "a's clock says it still leads")
        #expect {
            _ = try a.prune(before: Instant(microseconds: 0))
        } throws: { error in
            guard case StoreError.fenced(let reason) = error else { return false }
            return reason.contains("taken over")
        }
        #expect(try b.prune(before: Instant(microseconds: 0)) == (0, 0))
    }

    @Test func aLeaderWhoseClockRanPastItsLeaseStopsWritingByItself() throws {
        let c = try fresh()
        let clock = TestClock()
        let a = try store("a", c, clock: clock, lease: 4)
        defer { try? a.close() }
        _ = try #require(try a.acquire(address: nil))
        var batch = StoreBatch()
        batch.nextJobNumber = 3
        try a.commit(batch)
        // Just before the lease less its margin (0.4 s of 4), then past it.
        clock.advance(3.5)
        try a.commit(batch)
        clock.advance(0.2)
        #expect(throws: StoreError.self) { try a.commit(batch) }
        // A renewal that starts now extends it again.
        #expect(try a.renew())
        try a.commit(batch)
    }

    @Test func aGracefulStopHandsTheLeaseOverAtOnce() throws {
        let c = try fresh()
        let a = try store("a", c, lease: 30)
        let b = try store("b", c, lease: 30)
        defer { try? b.close() }
        let e = try #require(try a.acquire(address: nil))
        #expect(try b.acquire(address: nil) == nil)
        try a.close()
        #expect(try b.acquire(address: nil) == e + 1)
    }

    @Test func aDatabaseThatStopsFailsWritesInTimeAndTheyResumeWhenItIsBack() throws {
        let c = try fresh()
        let a = try store("a", c, lease: 30)
        defer { try? a.close() }
        _ = try #require(try a.acquire(address: nil))
        var batch = StoreBatch()
        batch.nextJobNumber = 11
        try a.commit(batch)
        c.kill9()
        let started = Date()
        #expect(throws: StoreError.self) { try a.commit(batch) }
        #expect(Date().timeIntervalSince(started) < 5, "the failure took \(Date().timeIntervalSince(started)) s")
        try c.start()
        batch.nextJobNumber = 12
        try a.commit(batch)
        #expect(try a.load().nextJobNumber == 12)
    }

    @Test func thePasswordComesFromAFileOrASystemdCredential() throws {
        let dir = TemporaryDirectories.make(prefix: "karst-pw")
        try "s3cret\nignored\n".write(toFile: dir + "/pw", atomically: true, encoding: .utf8)
        var s = PostgresSettings()
        #expect(try PostgresStore.password(for: s) == nil)
        s.passwordFile = dir + "/pw"
        #expect(try PostgresStore.password(for: s) == "s3cret")
        s.passwordFile = nil
        s.passwordCredential = "pw"
        #expect(try PostgresStore.password(for: s, environment: ["CREDENTIALS_DIRECTORY": dir]) == "s3cret")
        #expect(throws: StoreError.self) { try PostgresStore.password(for: s, environment: [:]) }
    }
}
