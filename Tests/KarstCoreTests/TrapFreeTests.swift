import KarstCore
import KarstTesting
import Testing

/// The core's time and size arithmetic has a defined outcome for every value, so that no input
/// can trap it, even one a bound at the edge would refuse today (a stored job from a looser
/// bound, a bound loosened later).
@Suite struct TrapFreeTests {
    @Test func instantArithmeticSaturates() {
        let t = Instant(rfc3339: "2026-07-01T00:00:00Z")!
        #expect(t.advanced(bySeconds: 1e18) == .never)
        #expect(t.advanced(bySeconds: .infinity) == .never)
        #expect(t.advanced(bySeconds: -.infinity) == Instant(microseconds: .min))
        #expect(t.advanced(bySeconds: .nan) == t)
        #expect(Instant.never.advanced(bySeconds: 1) == .never)
        #expect(Instant(microseconds: .min).advanced(bySeconds: -1) == Instant(microseconds: .min))
        #expect(Instant.never.nextWholeHour == .never)
        #expect(Instant(microseconds: .min).nextWholeHour > Instant(microseconds: .min))
        #expect(Instant(microseconds: .min).seconds(to: .never) > 1e13)
        #expect(Instant(secondsSinceEpoch: 1e300) == .never)
        #expect(Instant(secondsSinceEpoch: .nan) == Instant(microseconds: 0))
        #expect((0...23).contains(Instant.never.hourOfDay(utcOffsetHours: 14)))
        #expect((0...23).contains(Instant(microseconds: .min).hourOfDay(utcOffsetHours: -12)))
    }

    @Test func resourceArithmeticSaturates() {
        #expect(Resources(cpu: 1e300, memoryGiB: .infinity).milliCPU == .max)
        #expect(Resources(cpu: 1e300, memoryGiB: .infinity).memoryMiB == .max)
        #expect(Resources(cpu: -1e300, memoryGiB: .nan).milliCPU == .min)
        #expect(Resources(cpu: -1e300, memoryGiB: .nan).memoryMiB == 0)
        let big = Resources(milliCPU: .max, memoryMiB: 1, accelerators: .max)
        #expect(big.scaled(by: 100_000).milliCPU == .max)
        #expect(Resources(milliCPU: -3, memoryMiB: 1).scaled(by: Int.max).milliCPU == .min)
        #expect(!big.fits(in: Resources(milliCPU: 1_000_000, memoryMiB: 1_000_000)))
        // What the state may add up: at most 2⁴⁰ per component (restore holds anything more).
        #expect(!big.isCountable)
        #expect(Resources(milliCPU: 1 << 40, memoryMiB: 0).isCountable)
        #expect(!Resources(milliCPU: -1, memoryMiB: 0).isCountable)
    }

    /// Ids run out at `JobID.largest` (what a store keeps) with a named refusal, one by one and
    /// in a batch, and a damaged store's next id beyond it, up to `UInt64.max`, traps nothing.
    @Test func jobIDsRunOutWithANamedRefusal() throws {
        var rng = SeededRandom(seed: 5)
        let topology = RandomHub.topology(&rng)
        var specs: [JobSpec] = []
        while specs.count < 2 {
            let spec = RandomHub.spec(&rng, topology, now: Instant(microseconds: 0))
            var probe = SchedulerState(topology: topology)
            if (try? probe.submit(spec, now: Instant(microseconds: 0))) != nil { specs.append(spec) }
        }
        let largest = JobID.largest.rawValue
        var s = try SchedulerState.restore(topology: topology, records: [], nextJobNumber: largest - 1).0
        #expect(throws: SchedulerError.self) { _ = try s.submitBatch(specs + specs, now: Instant(microseconds: 0)) }
        #expect(try s.submitBatch(specs, now: Instant(microseconds: 0)).map(\.job.id) == [JobID(largest - 1), .largest])
        do {
            _ = try s.submit(specs[0], now: Instant(microseconds: 0))
            Issue.record("an id past JobID.largest was handed out")
        } catch {
            #expect("\(error)".contains("job ids are exhausted: the next would be job-\(largest + 1)"), "\(error)")
        }
        #expect(throws: SchedulerError.self) { try s.check(specs[0]) }
        for next in [largest + 1, .max] {
            var damaged = try SchedulerState.restore(topology: topology, records: [], nextJobNumber: next).0
            #expect(throws: SchedulerError.self) { _ = try damaged.submit(specs[0], now: Instant(microseconds: 0)) }
            #expect(throws: SchedulerError.self) { _ = try damaged.submitBatch(specs, now: Instant(microseconds: 0)) }
        }
    }

    /// Specs from every boundary, through every command: rejected or accepted, nothing traps and
    /// the invariants hold.
    @Test("boundary specs through submit, dry run, plan, apply, reconfigure", arguments: Array(UInt64(1)...30))
    func boundarySpecsThroughEveryCommand(seed: UInt64) {
        var rng = SeededRandom(seed: seed)
        let topology = RandomHub.topology(&rng)
        var h = ScenarioHarness(topology)
        for i in 0..<300 {
            let spec = BoundarySpecs.spec(&rng, topology, now: h.now, lastID: h.state.nextJobID.rawValue - 1)
            _ = try? h.state.dryRun(spec, now: h.now)
            if let e = try? h.state.submit(spec, now: h.now) { h.record([e]) }
            if i % 5 == 0 { _ = try? h.state.submitBatch([spec, spec], now: h.now) }
            if i % 3 == 0 { h.run(seconds: Double(rng.next() % 7200)) }
            if i % 50 == 0 { _ = try? h.state.reconfigure(to: topology, now: h.now) }
            if let v = h.capacityViolation() { Issue.record("seed \(seed), step \(i): \(v)"); return }
        }
    }

    /// The same boundaries with the bounds out of the way: restored as stored jobs (pending,
    /// held and running), which bypass the submit-time bounds, then scheduled, run, cancelled,
    /// completed and reconfigured. This is what a bound loosened later would let through.
    @Test("boundary values restored past the bounds never trap the core", arguments: Array(UInt64(1)...30))
    func boundaryValuesPastTheBounds(seed: UInt64) throws {
        var rng = SeededRandom(seed: seed)
        let topology = RandomHub.topology(&rng)
        let clock = ManualClock()
        let times = BoundarySpecs.instants(now: clock.now)
        var records: [JobRecord] = []
        for n in 1...120 {
            var spec = BoundarySpecs.spec(&rng, topology, now: clock.now)
            spec.dependsOn = []
            spec.datacenters = nil
            // Names the topology knows (a restore refuses unknown ones by design); values unbounded.
            if let m = spec.resources.acceleratorModel, spec.resources.accelerators == 0
                || !topology.datacenters.contains(where: { $0.pools.contains { $0.acceleratorModel == m } }) {
                spec.resources.acceleratorModel = nil
            }
            let state: JobState = [.pending, .pending, .held, .running][Int(rng.next() % 4)]
            let dc = topology.datacenters[Int(rng.next() % UInt64(topology.datacenters.count))]
            let submitted = times[Int(rng.next() % UInt64(times.count))]
            records.append(JobRecord(
                id: JobID(UInt64(n)), spec: spec, tenant: spec.tenant ?? "t1", state: state, submittedAt: submitted,
                startedAt: state == .running ? times[Int(rng.next() % UInt64(times.count))] : nil,
                placement: state == .running ? (dc.id, dc.pools[0].id) : nil))
        }
        var h = ScenarioHarness(topology, clock: clock)
        h.state = try SchedulerState.restore(topology: topology, records: records, nextJobNumber: 121).0
        if let v = h.capacityViolation() { Issue.record("seed \(seed), restored: \(v)") }
        for i in 0..<200 {
            h.run(seconds: [0, 1, 59, 3600, 86_400, 1e9][Int(rng.next() % 6)])
            let ids = h.state.jobs(state: nil).map(\.id)
            if let id = ids.isEmpty ? nil : ids[Int(rng.next() % UInt64(ids.count))] {
                switch rng.next() % 4 {
                case 0: _ = try? h.state.cancel(id, now: h.now)
                case 1: _ = try? h.state.complete(id, succeeded: rng.next() % 2 == 0, now: h.now)
                case 2: _ = try? h.state.hold(id, now: h.now)
                default: _ = try? h.state.release(id, now: h.now)
                }
            }
            _ = try? h.state.dryRun(RandomHub.spec(&rng, topology, now: h.now), now: h.now)
            if i % 40 == 0 { _ = try? h.state.reconfigure(to: topology, now: h.now) }
            if let v = h.capacityViolation() { Issue.record("seed \(seed), step \(i): \(v)"); return }
        }
    }
}
