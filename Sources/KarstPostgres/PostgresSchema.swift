/// The PostgreSQL schema, as migrations, applied in order and recorded in `karst_schema`. A
/// released migration is never edited: changes are new migrations. Each is a list of single
/// statements (the extended protocol takes one at a time), run in one transaction under an
/// advisory lock, so replicas starting together migrate once.
///
/// - `leader`: one row, the lease (`holder`, `address`, `epoch`, `expires_at` on the database's
///   clock). The epoch grows at every takeover; every write is fenced by it (`karst_commit`).
/// - `jobs`, `meta`: as in the SQLite store (times in microseconds since the epoch).
/// - `event_batches` (v2): the event log, one row per engine batch — `events` a JSON array of
///   `[at, job_id, kind, detail]` in order, `first_at`/`last_at` its bounds, `count` its length —
///   read through the view `events` (`batch`, `ord`, `at`, `job_id`, `kind`, `detail`). The log is
///   written with every submit and read by people: a row per event (v1: a `bigserial` key and
///   two indexes) cost the database more than the jobs themselves. Pruning deletes a batch once
///   its last event is older than the cut.
/// - `karst_commit_v2(holder, epoch, the inserted jobs' columns, the updated jobs' columns,
///   first_at, last_at, count, events, meta)`: one engine batch in one statement (one round
///   trip, one transaction): the fence first — the leader row read `FOR SHARE`, so a takeover
///   waits for a commit in flight and a commit after a takeover fails with SQLSTATE `KA001` —
///   then the jobs from one array per column (`unnest`), the events as one row, the meta rows
///   from a JSON array of objects. v1's `karst_commit` (JSON arrays of objects) stays, writing
///   the new event log, for a replica of the release before while both run (an upgrade).
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
        ("v2", [
            // A leader of the release before commits into `events` until the table is gone:
            // its commits wait from here, so none lands between the copy and the drop (the
            // one waiting fails once the table is dropped, and is retried under the new body).
            "LOCK TABLE events IN EXCLUSIVE MODE",
            """
            CREATE TABLE event_batches (
                id bigserial PRIMARY KEY,
                first_at bigint NOT NULL,
                last_at bigint NOT NULL,
                count integer NOT NULL,
                events text NOT NULL
            )
            """,
            // Compact JSON already; compressing it would cost the committing backend more than
            // the disk it saves, for a log the retention prunes.
            "ALTER TABLE event_batches ALTER COLUMN events SET STORAGE EXTERNAL",
            "CREATE INDEX event_batches_last_at ON event_batches (last_at)",
            """
            INSERT INTO event_batches (first_at, last_at, count, events)
            SELECT min(at), max(at), count(*), json_agg(json_build_array(at, job_id, kind, detail) ORDER BY seq)::text
            FROM events GROUP BY seq / 1024 ORDER BY seq / 1024
            """,
            "DROP TABLE events",
            """
            CREATE VIEW events AS
            SELECT b.id AS batch, e.ord::integer AS ord, (e.value->>0)::bigint AS at, (e.value->>1)::bigint AS job_id,
                   e.value->>2 AS kind, e.value->>3 AS detail
            FROM event_batches b CROSS JOIN LATERAL json_array_elements(b.events::json) WITH ORDINALITY AS e(value, ord)
            """,
            """
            CREATE FUNCTION karst_commit_v2(
                who text, term bigint,
                i_id bigint[], i_tenant text[], i_state text[], i_submitted bigint[], i_started bigint[],
                i_finished bigint[], i_datacenter text[], i_pool text[], i_retired text[], i_attempts integer[],
                i_preemptions integer[], i_message text[], i_spec text[], i_policy text[],
                u_id bigint[], u_state text[], u_started bigint[], u_finished bigint[], u_datacenter text[],
                u_pool text[], u_retired text[], u_attempts integer[], u_preemptions integer[], u_message text[],
                u_policy text[],
                ev_first bigint, ev_last bigint, ev_count integer, evs text, meta_rows json)
            RETURNS void LANGUAGE plpgsql AS $$
            BEGIN
                PERFORM 1 FROM leader WHERE id = 1 AND holder = who AND epoch = term FOR SHARE;
                IF NOT FOUND THEN
                    RAISE EXCEPTION USING ERRCODE = 'KA001',
                        MESSAGE = format('%s no longer leads: epoch %s has been taken over', who, term);
                END IF;
                IF cardinality(i_id) > 0 THEN
                    INSERT INTO jobs (id, tenant, state, submitted_at, started_at, finished_at, datacenter, pool,
                                      retired_pool, attempts, preemptions, message, spec, policy)
                    SELECT * FROM unnest(i_id, i_tenant, i_state, i_submitted, i_started, i_finished, i_datacenter,
                                         i_pool, i_retired, i_attempts, i_preemptions, i_message, i_spec, i_policy);
                END IF;
                IF cardinality(u_id) > 0 THEN
                    UPDATE jobs j SET state = r.state, started_at = r.started_at, finished_at = r.finished_at,
                                      datacenter = r.datacenter, pool = r.pool, retired_pool = r.retired_pool,
                                      attempts = r.attempts, preemptions = r.preemptions, message = r.message,
                                      policy = r.policy
                    FROM unnest(u_id, u_state, u_started, u_finished, u_datacenter, u_pool, u_retired, u_attempts,
                                u_preemptions, u_message, u_policy)
                         AS r(id, state, started_at, finished_at, datacenter, pool, retired_pool, attempts,
                              preemptions, message, policy)
                    WHERE j.id = r.id;
                END IF;
                IF evs IS NOT NULL THEN
                    INSERT INTO event_batches (first_at, last_at, count, events) VALUES (ev_first, ev_last, ev_count, evs);
                END IF;
                IF meta_rows IS NOT NULL THEN
                    INSERT INTO meta SELECT * FROM json_populate_recordset(NULL::meta, meta_rows)
                    ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value;
                END IF;
            END
            $$
            """,
            // v1's entry point, for a replica of the release before while both run: its rows
            // as it sent them, its events into the new log.
            """
            CREATE OR REPLACE FUNCTION karst_commit(who text, term bigint, inserted json, updated json, evs json, meta_rows json)
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
                IF evs IS NOT NULL AND json_array_length(evs) > 0 THEN
                    INSERT INTO event_batches (first_at, last_at, count, events)
                    SELECT min(r.at), max(r.at), count(*),
                           json_agg(json_build_array(r.at, r.job_id, r.kind, r.detail) ORDER BY r.ord)::text
                    FROM ROWS FROM (json_to_recordset(evs) AS (at bigint, job_id bigint, kind text, detail text))
                         WITH ORDINALITY AS r(at, job_id, kind, detail, ord);
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
