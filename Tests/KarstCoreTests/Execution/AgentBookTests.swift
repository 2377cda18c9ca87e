import KarstCore
import Testing

/// The lease and liveness state machine, driven by hand with a manual clock.
@Suite struct AgentBookTests {
    let t0 = Instant(rfc3339: "2026-07-01T00:00:00Z")!
    let timeouts = AgentTimeouts(reportInterval: 1, suspect: 3, fence: 10, lost: 15)
    let a = AgentID("a"), b = AgentID("b")
    func run(_ job: UInt64, _ attempt: Int = 1) -> RunID { RunID(job: JobID(job), attempt: attempt) }
    func at(_ s: Double) -> Instant { t0.advanced(bySeconds: s) }

    @Test func timeoutsMustLeaveTheFenceBeforeTheLoss() {
        #expect(timeouts.problem == nil)
        #expect(AgentTimeouts(reportInterval: 1, suspect: 3, fence: 10, lost: 11).problem?.contains("at least fence") == true)
        #expect(AgentTimeouts(reportInterval: 1, suspect: 10, fence: 10, lost: 30).problem?.contains("longer than suspect") == true)
        #expect(AgentTimeouts(reportInterval: 5, suspect: 3, fence: 10, lost: 30).problem?.contains("report interval") == true)
        #expect(AgentTimeouts(reportInterval: 1, suspect: 3, fence: .infinity, lost: 30).problem != nil)
    }

    @Test func aRunIsLeasedToTheLeastBusyLiveAgentOfItsDatacentre() throws {
        var book = AgentBook(timeouts: timeouts)
        #expect(!book.canLease(in: "dc"))
        #expect(book.lease(run(1), in: "dc", now: t0) == nil)
        _ = try book.connect(a, datacenter: "dc", now: t0)
        _ = try book.connect(b, datacenter: "dc", now: t0)
        _ = try book.connect(AgentID("c"), datacenter: "other", now: t0)
        #expect(book.lease(run(1), in: "dc", now: t0) == a)
        #expect(book.lease(run(2), in: "dc", now: t0) == b)
        #expect(book.lease(run(3), in: "dc", now: t0) == a)
        // One lease per job: its run must end before another attempt is leased.
        #expect(book.lease(run(1, 2), in: "dc", now: t0) == nil)
        #expect(book.invariantViolation() == nil)
    }

    @Test func aSilentAgentIsSuspectedThenLostAndItsRunsComeBack() throws {
        var book = AgentBook(timeouts: timeouts)
        let sa = try book.connect(a, datacenter: "dc", now: t0).session
        _ = try book.connect(b, datacenter: "dc", now: t0)
        #expect(book.lease(run(1), in: "dc", now: t0) == a)
        #expect(try book.started(a, session: sa, run: run(1), siteID: "pid 7", now: at(0.5)) == .run)
        try book.heard(b, session: 2, now: at(2.9))
        // Last heard at 0.5 s (its start report): suspect 3 s later.
        #expect(book.tick(now: at(3.4)).isEmpty)
        #expect(book.tick(now: at(3.5)) == [.suspect(a)])
        // Suspect: no new leases for it, but b is fine.
        #expect(book.lease(run(2), in: "dc", now: at(3.5)) == b)
        // A report brings it back.
        try book.heard(a, session: sa, now: at(4))
        #expect(book.allAgents.first { $0.id == a }?.state == .live)
        // Silent from 4 s: suspect again at 7 s, lost at 19 s (b, silent since 2.9 s, at 17.9 s).
        #expect(book.tick(now: at(18)) == [.suspect(a), .lost(b, [AgentBook.Lease(run: run(2), agent: b, leasedAt: at(3.5))])])
        let changes = book.tick(now: at(19))
        guard case .lost(let id, let runs)? = changes.first else { Issue.record("\(changes)"); return }
        #expect(id == a)
        #expect(runs.map(\.run) == [run(1)])
        #expect(runs.first?.siteID == "pid 7")
        #expect(book.lease(of: JobID(1)) == nil)
        // The lost agent's late reports are refused until it connects again.
        #expect(throws: AgentBook.AgentError.lost(a)) {
            try book.ended(a, session: sa, run: run(1), outcome: .init(succeeded: true), now: at(20))
        }
        let again = try book.connect(a, datacenter: "dc", now: at(21))
        #expect(again.leases.isEmpty)
        // Its run was requeued as attempt 2; a report about attempt 1 is stale: kill it.
        #expect(book.lease(run(1, 2), in: "dc", now: at(21)) == a)
        #expect(try book.ended(a, session: again.session, run: run(1), outcome: .init(succeeded: true), now: at(22)) == .stale)
        #expect(try book.started(a, session: again.session, run: run(1), siteID: "pid 7", now: at(22)) == .kill)
        #expect(book.invariantViolation() == nil)
    }

    @Test func theFirstEndWinsAndARepeatGetsTheSameAnswer() throws {
        var book = AgentBook(timeouts: timeouts)
        let s = try book.connect(a, datacenter: "dc", now: t0).session
        _ = book.lease(run(1), in: "dc", now: t0)
        #expect(try book.ended(a, session: s, run: run(1), outcome: .init(succeeded: false, exitStatus: 3), now: at(1))
                == .accepted(stopped: nil))
        #expect(try book.ended(a, session: s, run: run(1), outcome: .init(succeeded: true), now: at(2)) == .repeated)
        #expect(book.lease(of: JobID(1)) == nil)
        #expect(book.allAgents.first?.runs.isEmpty == true)
    }

    @Test func aStoppingRunHoldsItsLeaseUntilTheAgentConfirms() throws {
        var book = AgentBook(timeouts: timeouts)
        let s = try book.connect(a, datacenter: "dc", now: t0).session
        _ = book.lease(run(1), in: "dc", now: t0)
        #expect(book.stop(JobID(1), reason: .preempted)?.agent == a)
        #expect(book.lease(of: JobID(1))?.stopReason == .preempted)
        // A cancellation overrides the preemption; a later preemption does not override it.
        _ = book.stop(JobID(1), reason: .cancelled)
        _ = book.stop(JobID(1), reason: .offline)
        #expect(book.lease(of: JobID(1))?.stopReason == .cancelled)
        // The agent starts it anyway (the stop crossed the start): it is told to kill it.
        #expect(try book.started(a, session: s, run: run(1), siteID: "pid 9", now: at(1)) == .kill)
        #expect(book.lease(of: JobID(1)) != nil)
        #expect(try book.ended(a, session: s, run: run(1), outcome: .init(succeeded: false, message: "killed"), now: at(2))
                == .accepted(stopped: .cancelled))
        #expect(book.stop(JobID(1), reason: .cancelled) == nil)
    }

    @Test func anOlderConnectionIsRefusedAndAnotherDatacentreWithRunsToo() throws {
        var book = AgentBook(timeouts: timeouts)
        let first = try book.connect(a, datacenter: "dc", now: t0).session
        _ = book.lease(run(1), in: "dc", now: t0)
        let second = try book.connect(a, datacenter: "dc", now: at(1))
        #expect(second.leases.map(\.run) == [run(1)])
        #expect(throws: AgentBook.AgentError.staleSession(a)) { try book.heard(a, session: first, now: at(2)) }
        #expect(throws: AgentBook.AgentError.wrongDatacenter(a, serves: "dc")) {
            try book.connect(a, datacenter: "elsewhere", now: at(2))
        }
        // A closed connection: no new leases, and lost if it stays away.
        book.disconnected(a, session: second.session)
        #expect(!book.canLease(in: "dc"))
        #expect(book.tick(now: at(15.9)).isEmpty)
        #expect(book.tick(now: at(16)).count == 1)
    }

    @Test func afterARestartEveryAgentHasAFreshGrace() throws {
        let leases = [AgentBook.Lease(run: run(1, 2), agent: a, phase: .running(siteID: "pid 4"), leasedAt: t0),
                      AgentBook.Lease(run: run(2), agent: b, leasedAt: t0)]
        let restart = at(1000)
        var book = AgentBook(timeouts: timeouts, restoring: leases, datacenters: [a: "dc", b: "dc"])
        #expect(book.invariantViolation() == nil)
        // The restore knows no time: the grace starts at the first tick.
        #expect(book.tick(now: restart).isEmpty)
        #expect(!book.canLease(in: "dc"))
        // a comes back within the grace: its run is reconciled, not restarted.
        let back = try book.connect(a, datacenter: "dc", now: restart.advanced(bySeconds: 10))
        #expect(back.leases.map(\.run) == [run(1, 2)])
        #expect(try book.started(a, session: back.session, run: run(1, 2), siteID: "pid 4",
                                 now: restart.advanced(bySeconds: 10)) == .run)
        // b never does: lost a full `lost` after the restart, not before.
        try book.heard(a, session: back.session, now: restart.advanced(bySeconds: 14.9))
        #expect(book.tick(now: restart.advanced(bySeconds: 14.9)).isEmpty)
        #expect(book.tick(now: restart.advanced(bySeconds: 15)) == [.lost(b, [leases[1]])])
        #expect(book.nextDeadline == restart.advanced(bySeconds: 17.9))  // a's suspect deadline
    }
}
