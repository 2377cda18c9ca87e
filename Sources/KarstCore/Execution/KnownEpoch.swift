/// A site agent's side of the leader epochs (replicas on the PostgreSQL store): the largest
/// epoch it has been leased under, kept across its restarts, and what to make of a daemon that
/// answers with its own.
///
/// Invariant: `largest` never decreases, and a daemon whose epoch is below it is never taken as
/// the leader. An old leader (paused past its lease, or cut off from the database) still holds
/// what it knew when it lost the lease; were the agent to reconcile with it, it would kill the
/// runs the new leader leased since and restart ones the new leader has moved on from.
public struct KnownEpoch: Hashable, Sendable {
    /// The largest epoch seen; nil until a leader with one has answered (a single daemon has none).
    public private(set) var largest: UInt64?

    public init(largest: UInt64? = nil) { self.largest = largest }

    /// What a daemon's epoch means to the agent.
    public enum Verdict: Hashable, Sendable {
        /// The leader, or a single daemon (no epoch); `newer`: an epoch larger than any seen,
        /// to be recorded before acting on what it sends.
        case leader(newer: Bool)
        /// An old leader: its epoch is below `largest`.
        case stale(epoch: UInt64, largest: UInt64)
    }

    /// A daemon answered `Connect` with `epoch`.
    public mutating func answered(_ epoch: UInt64?) -> Verdict {
        guard let epoch else { return .leader(newer: false) }
        if let largest, epoch < largest { return .stale(epoch: epoch, largest: largest) }
        let newer = largest.map { epoch > $0 } ?? true
        largest = epoch
        return .leader(newer: newer)
    }
}
