import GRDB

/// The schema, as migrations. A released migration is never edited: changes are new migrations,
/// so any older state directory upgrades in place on start.
enum Schema {
    static let migrator: DatabaseMigrator = {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE jobs (
                    id INTEGER PRIMARY KEY,
                    tenant TEXT NOT NULL,
                    state TEXT NOT NULL,
                    submitted_at INTEGER NOT NULL,
                    started_at INTEGER,
                    finished_at INTEGER,
                    datacenter TEXT,
                    pool TEXT,
                    retired_pool TEXT,
                    attempts INTEGER NOT NULL,
                    preemptions INTEGER NOT NULL,
                    message TEXT,
                    spec TEXT NOT NULL
                );
                CREATE INDEX jobs_finished_at ON jobs(finished_at) WHERE finished_at IS NOT NULL;
                CREATE TABLE events (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    at INTEGER NOT NULL,
                    job_id INTEGER NOT NULL,
                    kind TEXT NOT NULL,
                    detail TEXT
                );
                CREATE INDEX events_at ON events(at);
                CREATE TABLE meta (
                    key TEXT PRIMARY KEY,
                    value TEXT NOT NULL
                );
                """)
        }
        // Scheduling-policy state of a job (borrowed capacity, who preempted it, a reported missed
        // deadline, a gang's pools), encoded by `PolicyCodec`; NULL for the common job with none.
        m.registerMigration("v2") { db in
            try db.execute(sql: "ALTER TABLE jobs ADD COLUMN policy TEXT")
        }
        // Specs in the protocol's JobSpec shape (SpecCodec), rewritten from v2's own shape.
        SpecV2Migration.register(in: &m)
        return m
    }()
}
