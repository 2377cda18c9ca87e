import Foundation
import GRDB
@testable import KarstStore
import Testing

/// The invariants the row writer's `SQLITE_STATIC` bindings rest on.
@Suite struct RowWriterTests {
    @Test func theArenaKeepsEveryStringInPlaceUntilReset() {
        let arena = TextArena()
        var stored: [(UnsafePointer<CChar>, [UInt8])] = []
        for n in 0..<200 {
            let bytes = [UInt8](repeating: UInt8(65 + n % 26), count: 1 + (n * 997) % TextArena.largest)
            stored.append((bytes.withUnsafeBufferPointer { arena.store($0) }, bytes))
        }
        // Later stores never moved or overwrote earlier ones.
        for (p, bytes) in stored {
            #expect(Array(UnsafeRawBufferPointer(start: p, count: bytes.count)) == bytes)
        }
        #expect(arena.blockCount > TextArena.keptBlocks)
        arena.reset()
        #expect(arena.blockCount == TextArena.keptBlocks, "an unusually large run's blocks are given back")
    }

    @Test func aRunThatLeavesAPlaceholderUnboundIsRefused() throws {
        let store = try KarstStore(directory: tempDir())
        // Run once fully bound, then with the second value missing: the stale binding of the
        // first run must not be written.
        try store.pool.write { db in
            try store.rows.run(db, key: "meta", sql: "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)") { b in
                b.text("probe-1"); b.text("first")
            }
        }
        #expect(throws: DatabaseError.self) {
            try store.pool.write { db in
                try store.rows.run(db, key: "meta", sql: "unused: the statement is kept") { b in b.text("probe-2") }
            }
        }
        let rows = try store.pool.read { db in try Row.fetchAll(db, sql: "SELECT key, value FROM meta WHERE key LIKE 'probe-%'") }
        #expect(rows.map { $0["key"] as String } == ["probe-1"])
    }
}
