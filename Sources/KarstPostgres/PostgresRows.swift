import KarstCore
import KarstJSON
import KarstStore

/// An engine batch as `karst_commit_v2` takes it: the jobs inserted and updated as one array
/// per column (`JobColumns`), the events as one `event_batches` row (a JSON array of `[at,
/// job_id, kind, detail]`, its bounds and length), the meta rows as a JSON array of objects;
/// nil for what the batch does not touch. A fixed number of parameters whatever the batch's
/// size: no statement per row, no limit of 65,535 parameters.
struct PostgresRows {
    var inserted: JobColumns
    var updated: JobColumns
    var events: String?
    var eventCount: Int32?
    var firstEventAt: Int64?
    var lastEventAt: Int64?
    var meta: String?

    init(_ batch: StoreBatch) {
        inserted = JobColumns(batch.inserted, inserting: true)
        updated = JobColumns(batch.updated, inserting: false)
        if !batch.events.isEmpty {
            var w = JSONWriter(capacity: batch.events.count * 48 + 16)
            var first = Int64.max, last = Int64.min
            w.beginArray()
            for e in batch.events {
                first = min(first, e.at.microseconds)
                last = max(last, e.at.microseconds)
                w.beginArray()
                w.number(Int(e.at.microseconds))
                w.number(Int(e.job.id.rawValue))
                w.string(e.kind.rawValue)
                if let d = e.detail { w.string(d) }
                w.endArray()
            }
            w.endArray()
            events = String(decoding: w.bytes, as: UTF8.self)
            eventCount = Int32(clamping: batch.events.count)
            firstEventAt = first
            lastEventAt = last
        }
        meta = Self.meta(batch.metaRows)
    }

    /// `meta` rows as `karst_commit_v2` takes them; nil for none.
    static func meta(_ rows: [(key: String, value: String)]) -> String? {
        guard !rows.isEmpty else { return nil }
        var w = JSONWriter(capacity: rows.count * 64 + 16)
        w.beginArray()
        for row in rows {
            w.beginObject()
            w.key("key"); w.string(row.key)
            w.key("value"); w.string(row.value)
            w.endObject()
        }
        w.endArray()
        return String(decoding: w.bytes, as: UTF8.self)
    }
}
