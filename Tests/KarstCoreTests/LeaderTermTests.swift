import KarstCore
import Testing

/// A leader's term on its own clock: it may write only before the lease could have expired,
/// counted from the start of its last successful renewal, less the margin.
@Suite struct LeaderTermTests {
    @Test func writesStopBeforeTheLeaseCouldHaveExpired() {
        var t = LeaderTerm(leaseSeconds: 10, renewSeconds: 2)
        #expect(!t.mayWrite(now: 0), "no term yet")
        t.held(epoch: 4, startedAt: 100)
        #expect(t.marginSeconds == 1)
        #expect(t.mayWrite(now: 100) && t.mayWrite(now: 108.99))
        #expect(!t.mayWrite(now: 109), "lease 10 s from the renewal's start, less the 1 s margin")
        #expect(t.renewalDue == 102)
        // A renewal that started later extends it; a late reply to an older one does not.
        t.held(epoch: 4, startedAt: 105)
        #expect(t.mayWrite(now: 113.9) && !t.mayWrite(now: 114))
        t.held(epoch: 4, startedAt: 103)
        #expect(t.writableUntil == 114)
        // Lost: nothing more.
        t.lost()
        #expect(!t.mayWrite(now: 105) && t.epoch == nil && t.renewalDue == nil)
    }

    @Test func aNewEpochStartsANewTerm() {
        var t = LeaderTerm(leaseSeconds: 3, renewSeconds: 1)
        #expect(t.marginSeconds == 0.3)
        t.held(epoch: 1, startedAt: 50)
        t.held(epoch: 2, startedAt: 40)  // a takeover by this replica, timed by its own start
        #expect(t.epoch == 2 && t.writableUntil == 42.7)
    }

    @Test func theMarginIsATenthOfTheLeaseAndAtLeastAFifthOfASecond() {
        #expect(LeaderTerm(leaseSeconds: 1, renewSeconds: 0.2).marginSeconds == 0.2)
        #expect(LeaderTerm(leaseSeconds: 60, renewSeconds: 5).marginSeconds == 6)
    }
}

/// The agent's record of leader epochs.
@Suite struct KnownEpochTests {
    @Test func aSmallerEpochIsAnOldLeaderAndTheLargestNeverFalls() {
        var known = KnownEpoch()
        #expect(known.answered(nil) == .leader(newer: false))
        #expect(known.largest == nil)
        #expect(known.answered(3) == .leader(newer: true))
        #expect(known.answered(3) == .leader(newer: false))
        #expect(known.answered(2) == .stale(epoch: 2, largest: 3))
        #expect(known.largest == 3)
        #expect(known.answered(5) == .leader(newer: true))
        #expect(known.answered(4) == .stale(epoch: 4, largest: 5))
        // A single daemon (no epoch) is taken as it is; what was seen stays.
        #expect(known.answered(nil) == .leader(newer: false))
        #expect(known.largest == 5)
        var restored = KnownEpoch(largest: 5)
        #expect(restored.answered(4) == .stale(epoch: 4, largest: 5))
    }

    @Test func overRandomSequencesTheLargestIsTheMaximumAndNoSmallerIsTaken() {
        var rng = SeededRandom(seed: 7)
        for _ in 0..<200 {
            var known = KnownEpoch()
            var maximum: UInt64? = nil
            for _ in 0..<50 {
                let e: UInt64? = rng.next() % 8 == 0 ? nil : rng.next() % 20
                let verdict = known.answered(e)
                if let e {
                    if let m = maximum, e < m { #expect(verdict == .stale(epoch: e, largest: m)) } else {
                        #expect(verdict == .leader(newer: maximum.map { e > $0 } ?? true))
                    }
                    maximum = max(maximum ?? 0, e)
                }
                #expect(known.largest == maximum)
            }
        }
    }
}
