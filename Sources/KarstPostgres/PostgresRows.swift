import KarstCore
import KarstJSON
import KarstStore

/// An engine batch as `karst_commit` takes it: JSON arrays of objects named like the columns
/// (`json_populate_recordset`), nil for what the batch does not touch. One parameter per table,
/// whatever the batch's size: no statement per row, no limit of 65,535 parameters.
struct PostgresRows {
    var inserted: String?
    var updated: String?
    var events: String?
    var meta: String?

    init(_ batch: StoreBatch) {
        if !batch.inserted.isEmpty {
            inserted = Self.array(batch.inserted) { w, r in
                Self.job(&w, r)
                w.key("spec"); w.string(SpecCodec.encode(r.spec))
            }
        }
        if !batch.updated.isEmpty { updated = Self.array(batch.updated) { w, r in Self.job(&w, r) } }
        if !batch.events.isEmpty {
            events = Self.array(batch.events) { w, e in
                w.key("at"); w.number(Int(e.at.microseconds))
                w.key("job_id"); w.number(Int(e.job.id.rawValue))
                w.key("kind"); w.string(e.kind.rawValue)
                if let d = e.detail { w.key("detail"); w.string(d) }
            }
        }
        meta = Self.meta(batch.metaRows)
    }

    /// `meta` rows as `karst_commit` takes them; nil for none.
    static func meta(_ rows: [(key: String, value: String)]) -> String? {
        guard !rows.isEmpty else { return nil }
        return array(rows) { w, row in
            w.key("key"); w.string(row.key)
            w.key("value"); w.string(row.value)
        }
    }

    /// A job's columns but its spec (written once, at insertion).
    static func job(_ w: inout JSONWriter, _ r: JobRecord) {
        w.key("id"); w.number(Int(r.id.rawValue))
        w.key("tenant"); w.string(r.tenant)
        w.key("state"); w.string(r.state.rawValue)
        w.key("submitted_at"); w.number(Int(r.submittedAt.microseconds))
        if let t = r.startedAt { w.key("started_at"); w.number(Int(t.microseconds)) }
        if let t = r.finishedAt { w.key("finished_at"); w.number(Int(t.microseconds)) }
        if let p = r.placement {
            w.key("datacenter"); w.string(p.datacenter)
            w.key("pool"); w.string(p.pool)
        }
        if let p = r.retiredPool { w.key("retired_pool"); w.string(p) }
        w.key("attempts"); w.number(r.attempts)
        w.key("preemptions"); w.number(r.preemptions)
        if let m = r.message { w.key("message"); w.string(m) }
        if let p = PolicyCodec.encode(r) { w.key("policy"); w.string(p) }
    }

    static func array<T>(_ items: [T], _ object: (inout JSONWriter, T) -> Void) -> String {
        var w = JSONWriter(capacity: items.count * 200 + 16)
        w.beginArray()
        for item in items {
            w.beginObject()
            object(&w, item)
            w.endObject()
        }
        w.endArray()
        return String(decoding: w.bytes, as: UTF8.self)
    }
}
