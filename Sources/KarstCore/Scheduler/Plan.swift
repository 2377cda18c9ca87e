/// The outcome of one scheduling pass, before anything changes: where jobs would go (and whom
/// they would evict), why the others wait and when they are expected to start, which deadlines
/// were missed. `SchedulerState.apply(_:)` turns it into events.
public struct Plan: Sendable {
    /// The moment the pass decided for.
    public var at: Instant
    /// In the order they must be applied (a preemptor's evictions come with it).
    public var placements: [Placement]
    /// Jobs the pass examined and could not place, with the reason.
    public var waiting: [Waiting]
    /// Jobs the pass did not reach (it stopped after `maxConsecutiveMisses`); they wait behind
    /// higher-ranked work, reason `priority`.
    public var unexamined: Int
    /// Backfill reservations this pass made for blocked jobs.
    public var reservations: [Reservation] = []
    /// Unfinished jobs whose deadline passed (each reported once).
    public var deadlineMisses: [JobID] = []
    /// The earliest moment a waiting job's situation changes by the clock alone (a window opens,
    /// a shifted start arrives); a simulator should run a pass then.
    public var wakeAt: Instant?

    /// One job placed: in one pool, or a gang split over `shards`; evicting `victims` first.
    public struct Placement: Hashable, Sendable {
        public var job: JobID
        public var pool: PoolRef
        public var estimate: PlacementEstimate
        /// The gang's pools and replicas when split; empty when the whole job goes to `pool`.
        public var shards: [PoolShard] = []
        /// Running jobs to preempt (requeue) to make room, in `pool`.
        public var victims: [JobID] = []
        /// Placed on borrowed capacity (above its tenant's quota, or a tenant without one).
        public var borrowed = false
    }

    /// One job left waiting, and why.
    public struct Waiting: Hashable, Sendable {
        public var job: JobID
        public var reason: PendingReason
        /// When it is expected to start: its reservation, shifted start or window opening.
        public var estimatedStart: Instant?
        /// Set aside until then (nothing but the clock can change its lot before; `Instant.never`:
        /// until a data centre changes state or the configuration is reloaded): applying the
        /// plan parks it in the queue, and passes before then do not examine it.
        public var parkUntil: Instant? = nil
    }

    /// Capacity held back in `pool` from `start` for `job`, the blocked job ahead.
    public struct Reservation: Hashable, Sendable {
        public var job: JobID
        public var pool: PoolRef
        public var start: Instant
    }
}
