import Foundation
import KarstCore
import KarstSim
import KarstTrace
import Testing

/// The synthetic workload follows its documented parameters (within sampling tolerance).
@Suite struct GeneratorTests {
    let start = Instant(rfc3339: "2026-07-01T00:00:00+08:00")!
    let g = WorkloadGenerator()

    @Test func itIsDeterministicInItsSeed() {
        let a = g.generate(start: start, hours: 6, seed: 9)
        #expect(a == g.generate(start: start, hours: 6, seed: 9))
        #expect(a != g.generate(start: start, hours: 6, seed: 10))
        #expect(zip(a, a.dropFirst()).allSatisfy { $0.submitAt <= $1.submitAt })
        #expect(a.allSatisfy { $0.submitAt.microseconds % 1_000_000 == 0 })  // whole seconds
    }

    @Test func arrivalsFollowTheRegionalRatesAndTheDay() {
        let day = g.generate(start: start, hours: 48, seed: 3)
        for demand in g.regions {
            let n = Double(day.filter { $0.spec.origin == demand.region }.count)
            let expected = demand.jobsPerHour * 48
            #expect(abs(n - expected) / expected < 0.04, "\(demand.region): \(n) vs \(expected)")
            for (tenant, share) in demand.tenants {
                let m = Double(day.filter { $0.spec.tenant == tenant }.count)
                #expect(abs(m / n - share) < 0.02, "\(tenant): \(m / n) vs \(share)")
            }
        }
        // The diurnal curve: the peak hour's rate is (1 + a) / (1 − a) = 4 times the trough's.
        let hourOf = { (j: TraceJob) in j.submitAt.hourOfDay(utcOffsetHours: 8) }
        let peak = Double(day.filter { hourOf($0) == 14 }.count)
        let trough = Double(day.filter { hourOf($0) == 2 }.count)
        let ratio = (1 + g.diurnalAmplitude) / (1 - g.diurnalAmplitude)
        #expect(abs(peak / trough - ratio) / ratio < 0.12, "peak/trough \(peak / trough) vs \(ratio)")
    }

    @Test func kindsSizesDurationsFlexibilityAndFailuresMatchTheirParameters() {
        let jobs = g.generate(start: start, hours: 48, seed: 5)
        let n = Double(jobs.count)
        func kind(_ j: TraceJob) -> String {
            j.spec.resources.accelerators > 0 ? "training" : j.spec.priorityClass
        }
        for (i, k) in g.kinds.enumerated() {
            let of = jobs.filter { kind($0) == k.name }
            #expect(abs(Double(of.count) / n - g.mix[i]) < 0.006, "\(k.name) share")
            // The median of a log-normal is its median parameter (the cap is far above it).
            let durations = of.compactMap(\.spec.durationSeconds).sorted()
            let median = durations[durations.count / 2]
            #expect(abs(median - k.medianSeconds) / k.medianSeconds < 0.06, "\(k.name) median \(median)")
            // ln(duration) has standard deviation σ (capping and rounding aside).
            let logs = durations.map { log($0 / k.medianSeconds) }
            let sd = (logs.reduce(0) { $0 + $1 * $1 } / Double(logs.count)).squareRoot()
            #expect(abs(sd - k.sigma) / k.sigma < 0.08, "\(k.name) σ \(sd)")
            #expect(durations.last! <= k.maxSeconds)
            #expect(of.allSatisfy { k.cores.contains($0.spec.resources.cpu) && k.memoryGiB.contains($0.spec.resources.memoryGiB) })
        }
        let cpuBatch = jobs.filter { kind($0) == "batch" }
        let flexible = Double(cpuBatch.filter { $0.spec.notAfter != nil }.count) / Double(cpuBatch.count)
        #expect(abs(flexible - g.flexibleShare) < 0.015)
        #expect(cpuBatch.allSatisfy { j in j.spec.notAfter.map { j.submitAt.seconds(to: $0) == g.flexWindowHours * 3600 } ?? true })
        let batch = jobs.filter { $0.spec.priorityClass == "batch" }
        let failing = Double(batch.filter { $0.failedRuns == 1 }.count) / Double(batch.count)
        #expect(abs(failing - g.failureShare) < 0.004)
        let training = jobs.filter { kind($0) == "training" }
        let pairs = Double(training.filter { $0.spec.replicas == 2 }.count) / Double(training.count)
        #expect(abs(pairs - 0.25) < 0.03)
        let ascend = Double(training.filter { $0.spec.resources.acceleratorModel == "ascend-910b" }.count) / Double(training.count)
        #expect(abs(ascend - 0.6) < 0.03)
    }
}
