import KarstConfig
import KarstCore
import KarstSim
import KarstTesting
import KarstTrace
import Testing

/// Replays whose outcome is worked out by hand, site events, failures, cancellations, determinism.
@Suite struct ReplayTests {
    let t0 = Instant(rfc3339: "2026-07-01T00:00:00+08:00")!

    /// One data centre with one 8-core pool (10 W per busy core, PUE 1.2, 0.35 CNY/kWh, 60 % clean).
    var oneSite: Topology { TopologyBuilder().datacenter("a", pools: [("cpu", 8, 64, 0, nil)]).topology }

    func at(_ seconds: Double) -> Instant { t0.advanced(bySeconds: seconds) }

    @Test func aTinyReplayMatchesTheHandComputedOutcome() throws {
        // Three 8-core jobs of 10 min arriving at 0, 1 and 2 min: they run back to back, starting
        // at 0, 10 and 20 min, so they wait 0, 9 and 18 min; the last ends at 30 min.
        let trace = (0..<3).map { i in TraceJob(submitAt: at(Double(i) * 60), spec: JobBuilder.job().cpu(8).lasting(600).spec) }
        let result = Replay(topology: oneSite).run(trace)
        #expect(result.jobs.map(\.waitSeconds) == [0, 540, 1080])
        #expect(result.jobs.allSatisfy { $0.state == .succeeded })
        #expect(result.end == at(1800))
        let s = ReplaySummary(result)
        // The pool is full for 30 of the first hour's 60 minutes.
        #expect(s.sites[0].pools[0].hourlyUtilisation == [0.5])
        // Pending jobs: one for 9 min and one for 18 min: 27 job-minutes over the hour.
        #expect(abs(s.queueDepth[s.classes.firstIndex { $0.id == "batch" }!][0] - 0.45) < 1e-9)
        // 8 cores × 10 W for 30 min = 40 Wh of IT energy; × PUE 1.2 = 0.048 kWh at the facility;
        // × 0.35 CNY/kWh = 0.0168 CNY; × 40 % non-clean × 0.8 kg/kWh = 0.01536 kg.
        #expect(abs(s.energyKWh - 0.048) < 1e-9)
        #expect(abs(s.costCNY - 0.0168) < 1e-9)
        #expect(abs(s.carbonKg - 0.01536) < 1e-9)
        let batch = s.classes.first { $0.id == "batch" }!
        #expect(batch.submitted == 3 && batch.started == 3 && batch.waitP50 == 540 && batch.waitP99 == 1080)
        #expect(batch.withinPromise == 1)  // batch promise: 1 h
        // One tenant had 8 cores for 30 min of the 30-min replay: the whole hub.
        #expect(s.tenants.map(\.meanDominantShare) == [1])
        #expect(s.fairness == 1)
    }

    @Test func aSiteGoingOfflineRequeuesItsWorkElsewhere() throws {
        let topo = TopologyBuilder()
            .datacenter("a", price: 0.30, pools: [("cpu", 8, 64, 0, nil)])
            .datacenter("b", price: 0.40, pools: [("cpu", 8, 64, 0, nil)]).topology
        let trace = [TraceJob(submitAt: t0, spec: JobBuilder.job().cpu(8).lasting(3600).spec)]
        let events = [SiteEvent(at: at(600), action: .offline, datacenter: "a"),
                      SiteEvent(at: at(1200), action: .resume, datacenter: "a")]
        let r = Replay(topology: topo, events: events).run(trace)
        let job = try #require(r.jobs.first)
        #expect(job.firstDatacenter == 0)  // the cheaper site first
        #expect(job.runs == 2 && r.outageRequeues == 1)
        #expect(job.state == .succeeded && job.finishedAt == at(600 + 3600).microseconds)
        #expect(r.siteEvents == events)
        let s = ReplaySummary(r)
        // 10 min at a, then the full hour at b.
        #expect(abs(s.sites[0].energyKWh - 80.0 * 600 / 3_600_000 * 1.2) < 1e-9)
        #expect(abs(s.sites[1].energyKWh - 80.0 * 3600 / 3_600_000 * 1.2) < 1e-9)
    }

    @Test func failingRunsAreRetriedAndCancellationsHappen() throws {
        var retried = TraceJob(submitAt: t0, spec: JobBuilder.job().cpu(4).lasting(600).retries(1).spec, failedRuns: 1)
        retried.spec.name = "retried"
        let doomed = TraceJob(submitAt: t0, spec: JobBuilder.job().cpu(4).lasting(600).retries(1).spec, failedRuns: .max)
        // Waits behind the two (the pool is full) and is cancelled after 5 min, never having run.
        let cancelled = TraceJob(submitAt: at(1), spec: JobBuilder.job().cpu(8).lasting(600).spec, cancelAfterSeconds: 300)
        let r = Replay(topology: oneSite).run([retried, doomed, cancelled])
        #expect(r.jobs.map(\.state) == [.succeeded, .failed, .cancelled])
        #expect(r.jobs.map(\.runs) == [2, 2, 0])
        #expect(r.jobs.map(\.finishedAt) == [at(1200), at(1200), at(301)].map(\.microseconds))
        #expect(r.retries == 2)
    }

    @Test func theSameInputGivesTheSameBytes() throws {
        let topo = KarstConfiguration.builtIn().topology
        let trace = WorkloadGenerator().generate(start: t0, hours: 3, seed: 2)
        func once() throws -> (String, String, String) {
            var s = Scenario(label: "x", topology: topo)
            try s.apply("event=2026-07-01T01:00 offline tc-qixing")
            try s.apply("load.gba=1.5")
            let summary = try s.replay(trace, seed: 7)
            return (TextReport([summary]).text, JSONReport([summary], trace: "t").text,
                    HTMLReport([summary], trace: "t").html)
        }
        let a = try once(), b = try once()
        #expect(a.0 == b.0)
        #expect(a.1 == b.1)
        #expect(a.2 == b.2)
    }

    @Test func whatIfKeysChangeTheScenario() throws {
        let topo = KarstConfiguration.builtIn().topology
        let trace = WorkloadGenerator().generate(start: t0, hours: 4, seed: 1)
        var s = Scenario(label: "x", topology: topo)
        try s.apply("load.gba=2")
        try s.apply("flex.online=2h")
        try s.apply("scoring.energy=3")
        try s.apply("datacenter.tc-qixing.capacity_scale=0.5")
        try s.apply("tenant.newcomer.weight=4")
        try s.apply("promise.batch=none")
        let w = s.workload(trace, seed: 1)
        let gba = { (jobs: [TraceJob]) in jobs.filter { $0.spec.origin == "gba" }.count }
        #expect(gba(w) == 2 * gba(trace))
        #expect(w.count - gba(w) == trace.count - gba(trace))
        #expect(w.filter { $0.spec.priorityClass == "online" }.allSatisfy { $0.spec.notAfter != nil && $0.spec.deadline != nil })
        #expect(s.topology.scoring.energy == 3)
        #expect(s.topology.datacenters[topo.datacenterIndex(of: "tc-qixing")!].pools[0].capacity.milliCPU == 48_000_000)
        #expect(s.topology.tenantPolicy(for: "newcomer").weight == 4)
        #expect(s.promises.promise(for: "batch") == nil)
        #expect(zip(w, w.dropFirst()).allSatisfy { $0.submitAt <= $1.submitAt })
        for bad in ["load.gba", "scoring.colour=1", "class.nope.aging_per_hour=1", "flex.batch=soon", "datacenter.x.pue=1"] {
            #expect(throws: SimError.self, "\(bad)") { try s.apply(bad) }
        }
        var none = Scenario(label: "y", topology: topo)
        try none.apply("load.gba=0")
        #expect(gba(none.workload(trace, seed: 1)) == 0)
    }

    @Test func siteEventsParseInLocalTimeUTCAndOffsets() throws {
        let origin = t0
        let e = try SiteEvent(parsing: "2026-07-01T10:00 offline tc-qixing", origin: origin, utcOffsetHours: 8)
        #expect(e.at == Instant(rfc3339: "2026-07-01T02:00:00Z") && e.action == .offline && e.datacenter == "tc-qixing")
        #expect(try SiteEvent(parsing: "2026-07-01T10:00:30Z drain a", origin: origin, utcOffsetHours: 8).at
            == Instant(rfc3339: "2026-07-01T10:00:30Z"))
        #expect(try SiteEvent(parsing: "2026-07-01T10:00+01:00 resume a", origin: origin, utcOffsetHours: 8).at
            == Instant(rfc3339: "2026-07-01T09:00:00Z"))
        #expect(try SiteEvent(parsing: "+1d2h30m drain a", origin: origin, utcOffsetHours: 8).at == at(95_400))
        for bad in ["2026-07-01T10:00 explode a", "tomorrow offline a", "2026-07-01T10:00 offline", "+3x offline a"] {
            #expect(throws: SimError.self, "\(bad)") { try SiteEvent(parsing: bad, origin: origin, utcOffsetHours: 8) }
        }
    }
}
