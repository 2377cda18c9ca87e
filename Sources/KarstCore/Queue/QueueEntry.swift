/// One job's place in the pending queue. 32 bytes: it is what a million-deep queue is made of.
public struct QueueEntry: Comparable, Sendable {
    /// Time-invariant rank from `QueueOrdering` (lower first).
    public var rank: Double
    public var id: JobID
    /// Index of the job's class in `Topology.classes`.
    public var classIndex: Int32
    /// The scheduler's index of the job's tenant.
    public var tenantIndex: Int32
    /// Matches the queue's membership record while the entry is live; a stale copy left in a heap
    /// after `remove` has an older generation and is skipped.
    var generation: UInt32

    public static func < (a: QueueEntry, b: QueueEntry) -> Bool {
        a.rank != b.rank ? a.rank < b.rank : a.id < b.id
    }

    public static func == (a: QueueEntry, b: QueueEntry) -> Bool {
        a.rank == b.rank && a.id == b.id
    }
}
