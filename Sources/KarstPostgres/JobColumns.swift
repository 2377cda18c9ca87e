import KarstCore
import KarstStore

/// Jobs as one array per column of `jobs`, in the rows' order. Inserted rows carry every
/// column; updated ones leave `tenant`, `submitted_at` and `spec` empty (they never change).
/// Text cannot hold a NUL byte in PostgreSQL: the calls that bring text in refuse one
/// (`CallBounds.checkText`), and a spec is stored as JSON, where it is escaped.
struct JobColumns {
    var id: [Int64] = []
    var tenant: [String] = []
    var state: [String] = []
    var submittedAt: [Int64] = []
    var startedAt = NullableArray<Int64>()
    var finishedAt = NullableArray<Int64>()
    var datacenter = NullableArray<String>()
    var pool = NullableArray<String>()
    var retiredPool = NullableArray<String>()
    var attempts: [Int32] = []
    var preemptions: [Int32] = []
    var message = NullableArray<String>()
    var spec: [String] = []
    var policy = NullableArray<String>()

    init(_ records: [JobRecord], inserting: Bool) {
        let n = records.count
        id.reserveCapacity(n); state.reserveCapacity(n); startedAt.reserveCapacity(n)
        finishedAt.reserveCapacity(n); datacenter.reserveCapacity(n); pool.reserveCapacity(n)
        retiredPool.reserveCapacity(n); attempts.reserveCapacity(n); preemptions.reserveCapacity(n)
        message.reserveCapacity(n); policy.reserveCapacity(n)
        if inserting { tenant.reserveCapacity(n); submittedAt.reserveCapacity(n); spec.reserveCapacity(n) }
        for r in records {
            id.append(Int64(r.id.rawValue))
            state.append(r.state.rawValue)
            startedAt.append(r.startedAt?.microseconds)
            finishedAt.append(r.finishedAt?.microseconds)
            datacenter.append(r.placement?.datacenter)
            pool.append(r.placement?.pool)
            retiredPool.append(r.retiredPool)
            attempts.append(Int32(clamping: r.attempts))
            preemptions.append(Int32(clamping: r.preemptions))
            message.append(r.message)
            policy.append(PolicyCodec.encode(r))
            if inserting {
                tenant.append(r.tenant)
                submittedAt.append(r.submittedAt.microseconds)
                spec.append(SpecCodec.encode(r.spec))
            }
        }
    }
}
