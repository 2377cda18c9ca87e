import KarstConfig
import KarstCore
import KarstSim
import KarstTesting
import Testing

@Suite struct ReplayTests {
    let start = Instant(rfc3339: "2026-07-01T00:00:00+08:00")!

    @Test func theGeneratorIsDeterministicAndFollowsItsRates() {
        let g = WorkloadGenerator()
        let a = g.generate(start: start, hours: 24, seed: 9)
        let b = g.generate(start: start, hours: 24, seed: 9)
        #expect(a == b)
        #expect(a != g.generate(start: start, hours: 48, seed: 10))
        // Over whole days the diurnal swing averages out: counts within 5 % of the mean rate.
        for demand in g.regions {
            let n = Double(a.filter { $0.spec.origin == demand.region }.count)
            let expected = demand.jobsPerHour * 24
            #expect(abs(n - expected) / expected < 0.05, "\(demand.region): \(n) vs \(expected)")
        }
        // More arrivals in the local afternoon than at night.
        let hourOf = { (j: TraceJob) in j.submitAt.hourOfDay(utcOffsetHours: 8) }
        let afternoon = a.filter { (13...15).contains(hourOf($0)) }.count
        let night = a.filter { (1...3).contains(hourOf($0)) }.count
        #expect(afternoon > 2 * night)
    }

    @Test func aTinyReplayMatchesTheHandComputedOutcome() throws {
        // One 8-core pool; three 8-core jobs of 10 min arriving at t, t+1 min, t+2 min: they run
        // back to back, starting at t, t+10 min and t+20 min.
        let topo = TopologyBuilder().datacenter("a", pools: [("cpu", 8, 64, 0, nil)]).topology
        let trace = (0..<3).map { i in
            TraceJob(submitAt: start.advanced(bySeconds: Double(i) * 60),
                     spec: JobBuilder.job().cpu(8).lasting(600).spec)
        }
        let result = Replay(topology: topo).run(trace)
        let waits = result.records.values.sorted { $0.id < $1.id }.map(\.waitSeconds)
        #expect(waits == [0, 540, 1080])
        #expect(result.end == start.advanced(bySeconds: 1800))
        #expect(result.stillPending == 0)
    }

    @Test func theSampleDayUsesEverySiteUnderLoad() {
        let topo = KarstConfiguration.builtIn().topology
        // The afternoon peak (10:00–16:00 in Gui'an) of the default sample day.
        let peak = Instant(rfc3339: "2026-07-01T10:00:00+08:00")!
        let result = Replay(topology: topo).run(WorkloadGenerator().generate(start: peak, hours: 6, seed: 1))
        let used = Set(result.records.values.compactMap { $0.placement?.datacenter })
        #expect(used.count == topo.datacenters.count, "sites used: \(used.sorted())")
        #expect(result.rejected.isEmpty)
    }
}
