import Foundation
import GRDB
import KarstCore
import KarstStore
import KarstTesting
import Testing

/// Schema v2: the scheduling-policy state of a job survives a restart, and a v1 state directory
/// upgrades in place.
@Suite struct PolicyStateTests {
    @Test func policyStateRoundTrips() throws {
        let dir = tempDir()
        let h = try storeScenario()
        var records = h.state.records
        records[0].borrowed = true
        records[0].preemptedBy = [JobID(7), JobID(9)]
        records[1].deadlineMissed = true
        records[2].shards = [("cpu", 2), ("npu", 1)]
        let store = try KarstStore(directory: dir)
        var batch = StoreBatch()
        batch.inserted = records
        batch.nextJobNumber = h.state.nextJobNumberValue
        try store.commit(batch)
        #expect(try KarstStore(directory: dir).load().records == records)
    }

    @Test func aVersion1DirectoryUpgradesInPlace() throws {
        let dir = tempDir()
        // What the first release wrote: the v1 tables, one pending job, its migration recorded.
        try DatabaseQueue(path: dir + "/karst.sqlite").write { db in
            try db.execute(sql: """
                CREATE TABLE grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY);
                INSERT INTO grdb_migrations (identifier) VALUES ('v1');
                CREATE TABLE jobs (id INTEGER PRIMARY KEY, tenant TEXT NOT NULL, state TEXT NOT NULL,
                    submitted_at INTEGER NOT NULL, started_at INTEGER, finished_at INTEGER, datacenter TEXT,
                    pool TEXT, retired_pool TEXT, attempts INTEGER NOT NULL, preemptions INTEGER NOT NULL,
                    message TEXT, spec TEXT NOT NULL);
                CREATE INDEX jobs_finished_at ON jobs(finished_at) WHERE finished_at IS NOT NULL;
                CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL,
                    job_id INTEGER NOT NULL, kind TEXT NOT NULL, detail TEXT);
                CREATE INDEX events_at ON events(at);
                CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                INSERT INTO jobs VALUES (1, 't1', 'pending', 0, NULL, NULL, NULL, NULL, NULL, 0, 0, NULL,
                    '{"origin":"local","priorityClass":"batch","cpu":1,"memoryGiB":1}');
                INSERT INTO jobs VALUES (2, 't1', 'pending', 0, NULL, NULL, NULL, NULL, NULL, 0, 0, NULL,
                    '{"name":"n","tenant":"t1","origin":"gba","priorityClass":"online","priority":3,"cpu":0.5,
                      "memoryGiB":2,"accelerators":4,"acceleratorModel":"ascend-910b","replicas":2,
                      "durationSeconds":90.5,"maxLatencyMs":30,"datacenters":["a"],"preemptible":false,
                      "deadline":1782864000123456,"notBefore":1782860000000000,"notAfter":1782862000000000,
                      "dependsOn":[1],"maxRetries":2,"labels":{"k":"v"}}');
                INSERT INTO meta VALUES ('next_job_number', '3');
                """)
        }
        let store = try KarstStore(directory: dir)
        #expect(try store.schemaVersions() == ["v1", "v2", "v3"])
        let loaded = try store.load()
        #expect(loaded.records.count == 2)
        #expect(loaded.records[0].state == .pending)
        #expect(loaded.records[0].shards.isEmpty)
        // v3 rewrote the specs in the protocol's shape, every field kept (times to the microsecond).
        let spec = loaded.records[1].spec
        #expect(spec == JobSpec(
            name: "n", tenant: "t1", origin: "gba", priorityClass: "online", priority: 3,
            resources: ResourceRequest(cpu: 0.5, memoryGiB: 2, accelerators: 4, acceleratorModel: "ascend-910b"),
            replicas: 2, durationSeconds: 90.5, maxLatencyMs: 30, datacenters: ["a"], preemptible: false,
            deadline: Instant(microseconds: 1_782_864_000_123_456), notBefore: Instant(microseconds: 1_782_860_000_000_000),
            notAfter: Instant(microseconds: 1_782_862_000_000_000), dependsOn: [JobID(1)], maxRetries: 2, labels: ["k": "v"]))
        let raw = try DatabaseQueue(path: dir + "/karst.sqlite").read { db in
            try String.fetchOne(db, sql: "SELECT spec FROM jobs WHERE id = 2")
        }
        #expect(raw?.contains("\"resources\":{") == true)
    }
}
