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
    @Test func aSmallerEpochOrNoneIsAnOldLeaderAndTheLargestNeverFalls() {
        var known = KnownEpoch()
        #expect(known.judge(nil) == .leader(newer: false), "a single daemon, before any epoch")
        #expect(known.judge(3) == .leader(newer: true))
        #expect(known.largest == nil, "judging records nothing")
        known.record(3)
        #expect(known.judge(3) == .leader(newer: false))
        #expect(known.judge(2) == .stale(epoch: 2, largest: 3))
        #expect(known.judge(nil) == .stale(epoch: nil, largest: 3), "no epoch, once one was seen: not followed")
        #expect(known.judge(5) == .leader(newer: true))
        known.record(5)
        known.record(4)
        #expect(known.largest == 5)
        #expect(KnownEpoch(largest: 5).judge(4) == .stale(epoch: 4, largest: 5))
    }

    @Test func overRandomSequencesTheLargestIsTheMaximumRecordedAndNothingSmallerIsFollowed() {
        var rng = SeededRandom(seed: 7)
        for _ in 0..<200 {
            var known = KnownEpoch()
            var maximum: UInt64? = nil
            for _ in 0..<50 {
                let e: UInt64? = rng.next() % 8 == 0 ? nil : rng.next() % 20
                let verdict = known.judge(e)
                switch (e, maximum) {
                case (nil, nil): #expect(verdict == .leader(newer: false))
                case (nil, let m?): #expect(verdict == .stale(epoch: nil, largest: m))
                case (.some, nil): #expect(verdict == .leader(newer: true))
                case (let e?, let m?): #expect(verdict == (e < m ? .stale(epoch: e, largest: m) : .leader(newer: e > m)))
                }
                // The caller records what it follows (a save that fails leaves it unrecorded).
                if case .leader = verdict, let e, rng.next() % 4 != 0 {
                    known.record(e)
                    maximum = max(maximum ?? 0, e)
                }
                #expect(known.largest == maximum)
            }
        }
    }
}
