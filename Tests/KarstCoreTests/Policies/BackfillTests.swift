import KarstCore
import KarstTesting
import Testing

/// Backfill with a reservation for the blocked head: big jobs do not starve behind small ones.
@Suite struct BackfillTests {
    /// One data centre with one 64-accelerator pool.
    static func hub(reservations: Int) -> Topology {
        TopologyBuilder().datacenter("a", pools: [("npu", 512, 4096, 64, "ascend-910b")])
            .with { $0.settings.backfillReservations = reservations }.topology
    }

    /// A stream of 1-accelerator jobs (10 min each, one every 10 s from another tenant) keeps
    /// the pool busy; a 64-accelerator job arrives after the stream has filled it. Returns when
    /// the big job started (seconds after it was submitted), or nil within `horizon`, and its
    /// estimated start right after submission.
    static func bigJobStart(reservations: Int, horizon: Double) throws -> (Double?, Instant?, Instant, PendingReason?) {
        var h = ScenarioHarness(hub(reservations: reservations))
        let small = JobBuilder.job().tenant("stream").class("batch").accelerators(1).cpu(1).lasting(600)
        for _ in 0..<64 {
            try h.submit(small)
            h.run(seconds: 10)
        }
        let big = try h.submit(.job("train").tenant("lab").class("batch").accelerators(64).cpu(64).lasting(3600))
        let submitted = h.now
        h.tick()
        let estimate = h.job(big)?.estimatedStart
        var elapsed = 0.0
        var firstSmallReason: PendingReason? = nil
        while elapsed < horizon {
            let id = try h.submit(small)
            h.run(seconds: 10)
            if elapsed == 0 { firstSmallReason = h.job(id)?.pendingReason }
            elapsed += 10
            #expect(h.capacityViolation() == nil)
            if let started = h.job(big)?.startedAt {
                return (submitted.seconds(to: started), estimate, submitted, firstSmallReason)
            }
        }
        return (nil, estimate, submitted, firstSmallReason)
    }

    @Test("a 64-accelerator job starts within its reservation while 1-accelerator jobs keep arriving")
    func bigJobStartsAtItsReservation() throws {
        let (start, estimate, submitted, smallReason) = try Self.bigJobStart(reservations: 8, horizon: 7200)
        #expect(smallReason == .reservedFor(JobID(65)), "a newcomer would delay the reservation: it waits")
        let waited = try #require(start, "the 64-accelerator job never started")
        // The pool frees entirely when the last of the 64 running small jobs ends: at most 600 s.
        #expect(waited <= 600)
        // It started when its reservation said it would.
        let reserved = try #require(estimate)
        #expect(abs(submitted.seconds(to: reserved) - waited) <= 10)
    }

    @Test("control: without reservations the stream starves the big job")
    func withoutReservationItStarves() throws {
        let (start, _, _, _) = try Self.bigJobStart(reservations: 0, horizon: 7200)
        #expect(start == nil)
    }

    @Test("a short job backfills before the reservation; a long one waits with reason reserved-for")
    func shortJobsBackfill() throws {
        var h = ScenarioHarness(Self.hub(reservations: 8))
        // 60 accelerators busy for 1000 s; 4 free.
        try h.submit(.job().tenant("a").class("batch").accelerators(60).cpu(60).lasting(1000))
        h.tick()
        let big = try h.submit(.job().tenant("b").class("batch").accelerators(64).cpu(64).lasting(3600))
        let short = try h.submit(.job().tenant("b").class("batch").accelerators(2).cpu(2).lasting(500))
        let long = try h.submit(.job().tenant("b").class("batch").accelerators(2).cpu(2).lasting(5000))
        h.tick()
        #expect(h.job(big)?.pendingReason == .noCapacity(datacenter: "a", pool: "npu"))
        #expect(h.job(big)?.estimatedStart == h.now.advanced(bySeconds: 1000))
        #expect(h.job(short)?.state == .running, "ends before the reservation: backfilled")
        #expect(h.job(long)?.pendingReason == .reservedFor(big))
        #expect(h.job(long)?.estimatedStart == h.now.advanced(bySeconds: 1000 + 3600))
    }
}
