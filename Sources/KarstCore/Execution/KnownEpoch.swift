/// A site agent's side of the leader epochs (replicas on the PostgreSQL store): the largest
/// epoch it has been leased under, kept across its restarts, and what to make of a daemon that
/// answers with its own.
///
/// Invariant: `largest` never decreases, and once it is set, a daemon whose epoch is below it —
/// or that answers with none — is never taken as the leader. An old leader (paused past its
/// lease, or cut off from the database) still holds what it knew when it lost the lease; were
/// the agent to reconcile with it, it would kill the runs the new leader leased since and
/// restart ones the new leader has moved on from. `judge` decides without changing anything;
/// `record` comes after the epoch is kept on disk, so a failed save is judged again next time.
public struct KnownEpoch: Hashable, Sendable {
    /// The largest epoch seen; nil until a leader with one has answered (a single daemon has none).
    public private(set) var largest: UInt64?

    public init(largest: UInt64? = nil) { self.largest = largest }

    /// What a daemon's epoch means to the agent.
    public enum Verdict: Hashable, Sendable {
        /// The leader, or a single daemon (no epoch, and none seen); `newer`: an epoch larger
        /// than any seen, to be recorded (`record`) before acting on what it sends.
        case leader(newer: Bool)
        /// Not to be followed: an epoch below `largest` (an old leader), or none (`epoch` nil)
        /// where one has been seen.
        case stale(epoch: UInt64?, largest: UInt64)
    }

    /// A daemon answered `Connect` with `epoch`.
    public func judge(_ epoch: UInt64?) -> Verdict {
        guard let largest else { return .leader(newer: epoch != nil) }
        guard let epoch, epoch >= largest else { return .stale(epoch: epoch, largest: largest) }
        return .leader(newer: epoch > largest)
    }

    /// `epoch` is kept (on disk, by the caller): the largest from now on, if it is larger.
    public mutating func record(_ epoch: UInt64) {
        largest = max(largest ?? epoch, epoch)
    }
}
