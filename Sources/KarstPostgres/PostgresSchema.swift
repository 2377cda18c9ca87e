/// The PostgreSQL schema, as migrations, applied in order and recorded in `karst_schema`. A
/// released migration is never edited: changes are new migrations. Each is a list of single
/// statements (the extended protocol takes one at a time), run in one transaction under an
/// advisory lock, so replicas starting together migrate once.
///
/// - `leader`: one row, the lease (`holder`, `address`, `epoch`, `expires_at` on the database's
///   clock). The epoch grows at every takeover; every write is fenced by it (`karst_commit`).
/// - `jobs`, `events`, `meta`: as in the SQLite store (times in microseconds since the epoch).
/// - `karst_commit(holder, epoch, inserted, updated, events, meta)`: one engine batch in one
///   statement (one round trip, one transaction): the fence first — the leader row read `FOR
///   SHARE`, so a takeover waits for a commit in flight and a commit after a takeover fails with
///   SQLSTATE `KA001` — then the rows, from JSON arrays of objects named like the columns.
enum PostgresSchema {
    static let lockKey = 0x4B41_5253_54  // "KARST"
    static let fencedState = "KA001"

    static let migrations: [(id: String, statements: [String])] = [
        ("v1", [
            """
            CREATE TABLE leader (
                id integer PRIMARY KEY CHECK (id = 1),
                holder text,
                address text,
                epoch bigint NOT NULL,
                expires_at timestamptz NOT NULL
            )
            """,
            "INSERT INTO leader (id, holder, address, epoch, expires_at) VALUES (1, NULL, NULL, 0, '-infinity')",
            """
            CREATE TABLE jobs (
                id bigint PRIMARY KEY,
                tenant text NOT NULL,
                state text NOT NULL,
                submitted_at bigint NOT NULL,
                started_at bigint,
                finished_at bigint,
                datacenter text,
                pool text,
                retired_pool text,
                attempts integer NOT NULL,
                preemptions integer NOT NULL,
                message text,
                spec text NOT NULL,
                policy text
            )
            """,
            "CREATE INDEX jobs_finished_at ON jobs (finished_at) WHERE finished_at IS NOT NULL",
            """
            CREATE TABLE events (
                seq bigserial PRIMARY KEY,
                at bigint NOT NULL,
                job_id bigint NOT NULL,
                kind text NOT NULL,
                detail text
            )
            """,
            "CREATE INDEX events_at ON events (at)",
            "CREATE TABLE meta (key text PRIMARY KEY, value text NOT NULL)",
            """
            CREATE FUNCTION karst_commit(who text, term bigint, inserted json, updated json, evs json, meta_rows json)
            RETURNS void LANGUAGE plpgsql AS $$
            BEGIN
                PERFORM 1 FROM leader WHERE id = 1 AND holder = who AND epoch = term FOR SHARE;
                IF NOT FOUND THEN
                    RAISE EXCEPTION USING ERRCODE = 'KA001',
                        MESSAGE = format('%s no longer leads: epoch %s has been taken over', who, term);
                END IF;
                IF inserted IS NOT NULL THEN
                    INSERT INTO jobs SELECT * FROM json_populate_recordset(NULL::jobs, inserted);
                END IF;
                IF updated IS NOT NULL THEN
                    UPDATE jobs j SET state = r.state, started_at = r.started_at, finished_at = r.finished_at,
                                      datacenter = r.datacenter, pool = r.pool, retired_pool = r.retired_pool,
                                      attempts = r.attempts, preemptions = r.preemptions, message = r.message,
                                      policy = r.policy
                    FROM json_populate_recordset(NULL::jobs, updated) r WHERE j.id = r.id;
                END IF;
                IF evs IS NOT NULL THEN
                    INSERT INTO events (at, job_id, kind, detail)
                    SELECT r.at, r.job_id, r.kind, r.detail
                    FROM json_populate_recordset(NULL::events, evs) WITH ORDINALITY AS r ORDER BY r.ordinality;
                END IF;
                IF meta_rows IS NOT NULL THEN
                    INSERT INTO meta SELECT * FROM json_populate_recordset(NULL::meta, meta_rows)
                    ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value;
                END IF;
            END
            $$
            """,
        ]),
    ]
}
