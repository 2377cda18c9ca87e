import KarstCore
import KarstTesting

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A seeded synthetic workload for the hub: arrivals from each eastern region with a diurnal
/// pattern, a mix of classes and sizes, and heavy-tailed durations.
///
/// Model (every number is a parameter):
/// - Arrivals: a Poisson process per region whose rate follows the local day,
///   `rate(h) = mean · (1 + amplitude · cos(2π (h − peakHour) / 24))`, sampled by thinning.
/// - Kinds: `online` services (4–16 cores, class latency budget, median 1 h), `batch` CPU work
///   (4–64 cores, median 3 h), accelerator `training` (8 or 16 NPUs as gangs of 8-accelerator
///   replicas, median 2 h), `best-effort` analytics (1–16 cores, median 1 h), a few `critical`.
/// - Durations: log-normal (median and σ per kind), capped at the kind's maximum.
public struct WorkloadGenerator: Sendable {
    /// One region's demand.
    public struct RegionDemand: Hashable, Sendable {
        public var region: String
        /// The tenant its jobs are charged to.
        public var tenant: String
        /// Mean arrivals per hour.
        public var jobsPerHour: Double

        public init(region: String, tenant: String, jobsPerHour: Double) {
            self.region = region
            self.tenant = tenant
            self.jobsPerHour = jobsPerHour
        }
    }

    public var regions: [RegionDemand] = [
        RegionDemand(region: "gba", tenant: "gba-fintech", jobsPerHour: 1500),
        RegionDemand(region: "yrd", tenant: "yrd-ai-lab", jobsPerHour: 1875),
        RegionDemand(region: "bth", tenant: "bth-research", jobsPerHour: 1250),
        RegionDemand(region: "cc", tenant: "cc-manufacturing", jobsPerHour: 500),
        RegionDemand(region: "local", tenant: "gz-gov", jobsPerHour: 250),
    ]
    /// Relative amplitude of the daily swing (0 = flat, 1 = zero at night).
    public var diurnalAmplitude = 0.6
    /// Local hour of peak demand.
    public var peakHour = 14.0
    /// UTC offset of the local day.
    public var utcOffsetHours = 8
    /// Shares of the kinds, in the order critical, online, batch, training, best-effort.
    public var mix: [Double] = [0.02, 0.30, 0.43, 0.05, 0.20]

    public init() {}

    /// Generates arrivals in `[start, start + hours)`, ordered by time, deterministic in `seed`.
    public func generate(start: Instant, hours: Double, seed: UInt64) -> [TraceJob] {
        var rng = SeededRandom(seed: seed)
        var out: [TraceJob] = []
        let end = start.advanced(bySeconds: hours * 3600)
        for demand in regions where demand.jobsPerHour > 0 {
            let peakRate = demand.jobsPerHour * (1 + diurnalAmplitude) / 3600
            var t = start
            while true {
                t = t.advanced(bySeconds: rng.exponential(mean: 1 / peakRate))
                guard t < end else { break }
                // Thinning: keep an arrival with probability rate(t) / peakRate.
                if rng.unit() * peakRate > rate(demand, at: t) { continue }
                out.append(TraceJob(submitAt: t, spec: job(&rng, demand)))
            }
        }
        out.sort { $0.submitAt != $1.submitAt ? $0.submitAt < $1.submitAt : $0.spec.origin < $1.spec.origin }
        return out
    }

    /// Arrivals per second for `demand` at `t`.
    public func rate(_ demand: RegionDemand, at t: Instant) -> Double {
        let local = t.secondsSinceEpoch / 3600 + Double(utcOffsetHours)
        let hour = local.truncatingRemainder(dividingBy: 24)
        let swing = cos(2 * Double.pi * (hour - peakHour) / 24)
        return demand.jobsPerHour / 3600 * max(0, 1 + diurnalAmplitude * swing)
    }

    private func job(_ rng: inout SeededRandom, _ d: RegionDemand) -> JobSpec {
        var spec = JobSpec(tenant: d.tenant, origin: d.region, priorityClass: "batch",
                           resources: ResourceRequest(cpu: 1, memoryGiB: 4))
        let u = rng.unit()
        var acc = 0.0
        var kind = mix.count - 1
        for (i, share) in mix.enumerated() {
            acc += share
            if u < acc { kind = i; break }
        }
        func pick(_ options: [Double]) -> Double { options[Int(rng.next() % UInt64(options.count))] }
        switch kind {
        case 0:
            spec.priorityClass = "critical"
            spec.resources = ResourceRequest(cpu: pick([4, 8, 16]), memoryGiB: pick([16, 32, 64]))
            spec.durationSeconds = logNormal(&rng, median: 900, sigma: 0.8, max: 4 * 3600)
        case 1:
            spec.priorityClass = "online"
            spec.resources = ResourceRequest(cpu: pick([4, 8, 16]), memoryGiB: pick([16, 32, 64]))
            spec.durationSeconds = logNormal(&rng, median: 3600, sigma: 0.7, max: 6 * 3600)
        case 2:
            spec.priorityClass = "batch"
            spec.resources = ResourceRequest(cpu: pick([4, 8, 16, 32, 64]), memoryGiB: pick([16, 64, 128, 256]))
            spec.durationSeconds = logNormal(&rng, median: 3 * 3600, sigma: 1.0, max: 24 * 3600)
        case 3:
            spec.priorityClass = "batch"
            spec.resources = ResourceRequest(cpu: 96, memoryGiB: 768, accelerators: 8,
                                             acceleratorModel: rng.next() % 4 == 0 ? nil : "ascend-910b")
            spec.replicas = Int(pick([1, 1, 1, 2]))
            spec.durationSeconds = logNormal(&rng, median: 2 * 3600, sigma: 1.0, max: 24 * 3600)
        default:
            spec.priorityClass = "best-effort"
            spec.resources = ResourceRequest(cpu: pick([1, 2, 4, 8, 16]), memoryGiB: pick([4, 8, 32]))
            spec.durationSeconds = logNormal(&rng, median: 3600, sigma: 1.0, max: 8 * 3600)
        }
        spec.durationSeconds = spec.durationSeconds.map { ($0).rounded() }
        return spec
    }

    private func logNormal(_ rng: inout SeededRandom, median: Double, sigma: Double, max cap: Double) -> Double {
        // Box–Muller for a standard normal.
        let u1 = Swift.max(rng.unit(), 1e-12), u2 = rng.unit()
        let z = (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
        return min(cap, max(1, median * exp(sigma * z)))
    }
}
