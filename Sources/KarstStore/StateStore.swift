import KarstCore

/// What the engine needs of a durable store: SQLite on this machine (`KarstStore`) or
/// PostgreSQL shared by replicas (`PostgresStore`, in KarstPostgres).
///
/// The semantics every store keeps: `commit` writes a batch in one transaction and returns only
/// once it is durable (the engine answers its calls after that); a failed commit wrote nothing;
/// `load` returns exactly what the last successful commits left.
public protocol StateStore: AnyObject, Sendable {
    /// Writes a batch in one transaction; returns once it is durable.
    func commit(_ batch: StoreBatch) throws(StoreError)
    /// Succeeds only when the store can take writes (the engine's probe while degraded).
    func probe(at now: Instant) throws(StoreError)
    /// Reads the whole state.
    func load() throws(StoreError) -> StoredState
    /// Deletes finished jobs and events older than `before`; (jobs, events) deleted.
    func prune(before: Instant) throws(StoreError) -> (Int, Int)
    /// Finishes and closes; the store cannot be used afterwards.
    func close() throws
}

extension KarstStore: StateStore {}
