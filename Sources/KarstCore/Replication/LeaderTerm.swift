/// A replica's hold on the leader lease, as its own monotonic clock sees it. Pure: the store
/// reports renewals and their outcomes, with the times it read; this decides whether a write
/// may still be committed and when to renew.
///
/// The lease row's expiry is set by the database, `lease` seconds after the database ran the
/// renewal — which is after the replica started it. Counting from the *start* of the last
/// successful renewal on its own monotonic clock, a replica therefore always stops before the
/// database's expiry, less `margin` for the two clocks' rates differing (`margin` is a tenth of
/// the lease, at least 0.2 s). A replica paused past that point (GC, SIGSTOP, a lost network)
/// finds `mayWrite` false when it resumes; a commit already on its way is refused by the
/// database's own fence (the epoch).
///
/// Invariant: `mayWrite(now)` implies `now < heldFrom + lease - margin`, and is false before
/// the first success and after `lost()`.
public struct LeaderTerm: Sendable, Equatable {
    public let leaseSeconds: Double
    public let renewSeconds: Double
    public let marginSeconds: Double
    /// The epoch of the lease held, nil when none is.
    public private(set) var epoch: UInt64?
    /// When (monotonic seconds) the last successful acquisition or renewal started.
    public private(set) var heldFrom: Double?

    public init(leaseSeconds: Double, renewSeconds: Double) {
        self.leaseSeconds = leaseSeconds
        self.renewSeconds = renewSeconds
        marginSeconds = max(0.2, leaseSeconds / 10)
    }

    /// An acquisition or renewal that started at `startedAt` succeeded, holding `epoch`. A
    /// success that started before the one already counted changes nothing (a late reply).
    public mutating func held(epoch: UInt64, startedAt: Double) {
        if let e = self.epoch, e != epoch {
            // A new term (a takeover by this replica): it starts from this renewal.
            heldFrom = startedAt
        } else if let from = heldFrom, from >= startedAt {
            return
        } else {
            heldFrom = startedAt
        }
        self.epoch = epoch
    }

    /// The database refused the renewal (another replica took over) or the replica gave up.
    public mutating func lost() {
        epoch = nil
        heldFrom = nil
    }

    /// The last moment (monotonic) a write may be committed in this term; nil without one.
    public var writableUntil: Double? { heldFrom.map { $0 + leaseSeconds - marginSeconds } }

    /// Whether a write may be committed at `now`.
    public func mayWrite(now: Double) -> Bool {
        guard epoch != nil, let until = writableUntil else { return false }
        return now < until
    }

    /// When the next renewal is due (monotonic); nil without a term.
    public var renewalDue: Double? { heldFrom.map { $0 + renewSeconds } }
}
