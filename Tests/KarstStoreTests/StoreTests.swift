import Foundation
import GRDB
import KarstCore
import KarstStore
import KarstTesting
import Testing

func tempDir() -> String { TemporaryDirectories.make(prefix: "karst-store") }

@Suite struct StoreTests {
    @Test func synchronousIsFullAndTheJournalIsWAL() throws {
        let store = try KarstStore(directory: tempDir())
        #expect(try store.synchronousMode() == 2, "GRDB resets synchronous to NORMAL with WAL; we re-apply FULL")
        let mode = try DatabaseQueue(path: store.path).read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") }
        #expect(mode == "wal")
        #expect(try store.schemaVersions() == ["v1", "v2", "v3"])
    }

    @Test func whatIsCommittedLoadsBackExactly() throws {
        let dir = tempDir()
        let h = try storeScenario()
        let store = try KarstStore(directory: dir)
        var batch = StoreBatch()
        batch.inserted = h.state.records
        batch.nextJobNumber = h.state.nextJobNumberValue
        batch.datacenterStates = ["a": .draining, "b": .active]
        batch.generation = 4
        try store.commit(batch)
        let reopened = try KarstStore(directory: dir).load()
        #expect(reopened.records == h.state.records)
        #expect(reopened.nextJobNumber == h.state.nextJobNumberValue)
        #expect(reopened.datacenterStates == ["a": .draining, "b": .active])
        #expect(reopened.generation == 4)

        var update = StoreBatch()
        var r = h.state.records[1]
        r.state = .cancelled
        r.finishedAt = h.now
        update.updated = [r]
        try store.commit(update)
        #expect(try store.load().records[1] == r)
    }

    @Test func longAndNonASCIITextAcrossArenaBlocksLoadsBackExactly() throws {
        let dir = tempDir()
        let store = try KarstStore(directory: dir)
        func record(_ n: UInt64, textBytes: Int) -> JobRecord {
            var spec = JobSpec(origin: "gba", priorityClass: "batch", resources: ResourceRequest(cpu: 1, memoryGiB: 1))
            spec.name = "作业-\(n)"
            spec.labels = ["note": String(repeating: "贵安\(n % 10)", count: textBytes / 7)]  // 7 bytes each
            return JobRecord(id: JobID(n), spec: spec, tenant: "东数西算", state: .pending,
                             submittedAt: Instant(microseconds: Int64(n)))
        }
        // 12 KiB specs fill more than one 256 KiB arena block within one 32-row statement; the
        // 40 KiB and 600 KiB ones are over the arena's limit and bound by SQLite's own copy.
        var first = StoreBatch()
        first.inserted = (1...100).map { record($0, textBytes: 12 * 1024) }
            + [record(101, textBytes: 40 * 1024), record(102, textBytes: 600 * 1024)]
        first.nextJobNumber = 103
        try store.commit(first)
        #expect(try store.load().records == first.inserted)
        // The next commit reuses the blocks: it writes its own text, not what the first left.
        var second = StoreBatch()
        second.inserted = (103...140).map { record($0, textBytes: 9 * 1024) }
        second.nextJobNumber = 141
        try store.commit(second)
        #expect(try KarstStore(directory: dir).load().records == first.inserted + second.inserted)
    }

    /// A command, its environment and working directory are fields of the stored wire JobSpec:
    /// they persist with no schema change, byte for byte (quotes, backslashes, newlines, empty
    /// arguments, non-ASCII), and a spec without them stores none of them.
    @Test func aCommandItsEnvironmentAndWorkingDirectoryLoadBackExactly() throws {
        let dir = tempDir()
        var spec = JobSpec(origin: "gba", priorityClass: "batch", resources: ResourceRequest(cpu: 1, memoryGiB: 1),
                           durationSeconds: 600)
        spec.command = ["/bin/sh", "-c", "printf '%s\\n' \"$GREETING\" > out.txt\n\techo 贵安", "", "--", "a b"]
        spec.environment = ["GREETING": "hi \"there\"\\", "EMPTY": "", "PATH": "/usr/local/bin:/usr/bin", "城市": "贵阳"]
        spec.workingDirectory = "/srv/karst/runs/作业 1"
        let plain = JobSpec(origin: "gba", priorityClass: "batch", resources: ResourceRequest(cpu: 1, memoryGiB: 1))
        var running = JobRecord(id: JobID(1), spec: spec, tenant: "t1", state: .pending, submittedAt: Instant(microseconds: 1))
        let store = try KarstStore(directory: dir)
        var batch = StoreBatch()
        batch.inserted = [running, JobRecord(id: JobID(2), spec: plain, tenant: "t1", state: .pending,
                                             submittedAt: Instant(microseconds: 2))]
        batch.nextJobNumber = 3
        try store.commit(batch)
        // Rewritten when it starts: the spec stays as it was.
        running.state = .running
        running.startedAt = Instant(microseconds: 5)
        running.placement = ("site", "cpu")
        var update = StoreBatch()
        update.updated = [running]
        try store.commit(update)
        let loaded = try KarstStore(directory: dir).load().records
        #expect(loaded == [running, batch.inserted[1]])
        #expect(loaded.first?.spec.command == spec.command && loaded.first?.spec.runsCommand == true)
        #expect(loaded.first?.spec.environment == spec.environment)
        #expect(loaded.first?.spec.workingDirectory == spec.workingDirectory)
        let raw = try DatabaseQueue(path: store.path).read { db in
            try String.fetchAll(db, sql: "SELECT spec FROM jobs ORDER BY id")
        }
        #expect(raw.first?.contains("\"command\":[\"/bin/sh\"") == true, "\(raw)")
        #expect(raw.first?.contains("\"workingDirectory\":") == true)
        #expect(raw.last.map { !$0.contains("command") && !$0.contains("environment") && !$0.contains("workingDirectory") } == true)
    }

    @Test func restoringRebuildsQueueRunningSetAndTimersExactly() throws {
        var h = try storeScenario()
        let (restored, report) = try SchedulerState.restore(
            topology: h.state.topology, records: h.state.records, nextJobNumber: h.state.nextJobNumberValue,
            datacenterStates: h.state.datacenterStatesByID, tenantOrder: h.state.tenantShares.map(\.tenant))
        #expect(report.heldUnschedulable.isEmpty && report.runningOutsidePools.isEmpty)
        #expect(restored.checkInvariants() == nil)
        #expect(restored.allocated == h.state.allocated)
        #expect(restored.pendingCount == h.state.pendingCount)
        #expect(restored.nextCompletion == h.state.nextCompletion)
        // From here on both make the same decisions: same queue order, same timers.
        var copy = restored
        for step in 0..<4 {
            h.clock.advance(bySeconds: 1800)
            let a = h.state.tick(now: h.now).map { "\($0.kind) \($0.job.id) \($0.at)" }
            let b = copy.tick(now: h.now).map { "\($0.kind) \($0.job.id) \($0.at)" }
            #expect(a == b, "step \(step)")
        }
    }

    @Test func aDatabaseFromANewerVersionIsRefusedClearly() throws {
        let dir = tempDir()
        _ = try KarstStore(directory: dir)
        try DatabaseQueue(path: dir + "/karst.sqlite").write { db in
            try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v9-from-the-future')")
        }
        #expect {
            _ = try KarstStore(directory: dir)
        } throws: { error in
            guard case .newerSchema(_, let unknown) = error as? StoreError else { return false }
            return unknown == ["v9-from-the-future"]
        }
    }

    @Test func pruningDropsOldFinishedJobsAndEventsOnly() throws {
        let h = try storeScenario()
        let store = try KarstStore(directory: tempDir())
        var batch = StoreBatch()
        batch.inserted = h.state.records
        batch.events = h.events
        try store.commit(batch)
        let (jobs, events) = try store.prune(before: h.now)
        #expect(jobs == 1)  // "train" finished 100 s ago
        #expect(events == h.events.filter { $0.at < h.now }.count)
        #expect(try store.load().records.count == h.state.records.count - 1)
        var state = h.state
        #expect(state.forget(finishedBefore: h.now) == 1)
        #expect(state.checkInvariants() == nil)
    }

    @Test func anOnlineBackupIsAConsistentCopy() throws {
        let h = try storeScenario()
        let dir = tempDir()
        let store = try KarstStore(directory: dir)
        var batch = StoreBatch()
        batch.inserted = h.state.records
        try store.commit(batch)
        let copy = dir + "/backup.sqlite"
        #expect(try store.backup(to: copy) == h.state.records.count)
        let restoredDir = tempDir()
        try FileManager.default.copyItem(atPath: copy, toPath: restoredDir + "/karst.sqlite")
        #expect(try KarstStore(directory: restoredDir).load().records == h.state.records)
        #expect(try KarstStore(directory: restoredDir).summary().isHealthy)
    }

    @Test func anUnusableDirectoryIsAClearError() throws {
        let dir = tempDir()
        let file = dir + "/not-a-directory"
        _ = FileManager.default.createFile(atPath: file, contents: Data("x".utf8))
        #expect(throws: StoreError.self) { _ = try KarstStore(directory: file) }
    }
}
