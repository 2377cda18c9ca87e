/// The outcome of one scheduling pass, before anything changes: where jobs would go and why the
/// others wait. `SchedulerState.apply(_:)` turns it into events.
public struct Plan: Sendable {
    /// The moment the pass decided for.
    public var at: Instant
    public var placements: [Placement]
    /// Jobs the pass examined and could not place, with the reason.
    public var waiting: [Waiting]
    /// Jobs the pass did not reach (it stopped after `maxConsecutiveMisses`); they wait behind
    /// higher-ranked work, reason `priority`.
    public var unexamined: Int

    /// One job placed in one pool.
    public struct Placement: Hashable, Sendable {
        public var job: JobID
        public var pool: PoolRef
        public var estimate: PlacementEstimate
    }

    /// One job left waiting, and why.
    public struct Waiting: Hashable, Sendable {
        public var job: JobID
        public var reason: PendingReason
    }
}
