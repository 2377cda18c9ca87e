import KarstCore
import KarstTrace

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A seeded synthetic workload for the hub: arrivals from each region with a diurnal pattern, a mix
/// of kinds and sizes, heavy-tailed durations. Every distribution and parameter is documented in
/// docs/TRACES.md; the same parameters and seed give the same trace.
///
/// - Arrivals: per region a Poisson process whose rate follows the local day,
///   `rate(h) = jobsPerHour · (1 + amplitude · cos(2π (h − peakHour) / 24))`, sampled by thinning;
///   submit times are whole seconds. Each arrival's tenant is drawn from the region's tenants.
/// - Kinds (`mix`): critical, latency-bound online, CPU batch, accelerator training, best-effort.
/// - Sizes: uniform over each kind's list of cores and GiB; training takes 8 accelerators per
///   replica, gangs of 1 or 2 replicas (2 with probability ¼).
/// - Durations: log-normal (median, σ per kind), capped, whole seconds.
/// - Flexibility: a share of CPU batch may start up to `flexWindowHours` after submission.
/// - Failures: a share of batch and training jobs fail their first run and are retried.
public struct WorkloadGenerator: Sendable {
    /// One region's demand.
    public struct RegionDemand: Sendable {
        public var region: String
        /// The tenants its jobs are charged to, with their shares of the region's arrivals.
        public var tenants: [(String, Double)]
        /// Mean arrivals per hour (over a whole day).
        public var jobsPerHour: Double

        public init(region: String, tenants: [(String, Double)], jobsPerHour: Double) {
            self.region = region
            self.tenants = tenants
            self.jobsPerHour = jobsPerHour
        }
    }

    /// One kind of work: its class, sizes and duration distribution.
    public struct Kind: Hashable, Sendable {
        public var name: String
        public var priorityClass: String
        public var cores: [Double]
        public var memoryGiB: [Double]
        /// Accelerators per replica (0: CPU work).
        public var accelerators: Int
        public var medianSeconds: Double
        public var sigma: Double
        public var maxSeconds: Double
        /// Explicit latency budget written into the trace (nil: the class default).
        public var maxLatencyMs: Double?
    }

    public var regions: [RegionDemand] = [
        RegionDemand(region: "gba", tenants: [("gba-fintech", 0.6), ("gba-games", 0.4)], jobsPerHour: 1500),
        RegionDemand(region: "yrd", tenants: [("yrd-ai-lab", 0.6), ("yrd-ecommerce", 0.4)], jobsPerHour: 1875),
        RegionDemand(region: "bth", tenants: [("bth-research", 0.7), ("bth-media", 0.3)], jobsPerHour: 1250),
        RegionDemand(region: "cc", tenants: [("cc-manufacturing", 1)], jobsPerHour: 500),
        RegionDemand(region: "local", tenants: [("gz-gov", 1)], jobsPerHour: 250),
    ]
    public var kinds: [Kind] = [
        Kind(name: "critical", priorityClass: "critical", cores: [4, 8, 16], memoryGiB: [16, 32, 64],
             accelerators: 0, medianSeconds: 900, sigma: 0.8, maxSeconds: 4 * 3600, maxLatencyMs: nil),
        Kind(name: "online", priorityClass: "online", cores: [4, 8, 16], memoryGiB: [16, 32, 64],
             accelerators: 0, medianSeconds: 3600, sigma: 0.7, maxSeconds: 6 * 3600, maxLatencyMs: 20),
        Kind(name: "batch", priorityClass: "batch", cores: [4, 8, 16, 32, 64], memoryGiB: [16, 64, 128, 256],
             accelerators: 0, medianSeconds: 3 * 3600, sigma: 1.0, maxSeconds: 24 * 3600, maxLatencyMs: nil),
        Kind(name: "training", priorityClass: "batch", cores: [96], memoryGiB: [768],
             accelerators: 8, medianSeconds: 2 * 3600, sigma: 1.0, maxSeconds: 24 * 3600, maxLatencyMs: nil),
        Kind(name: "best-effort", priorityClass: "best-effort", cores: [1, 2, 4, 8, 16], memoryGiB: [4, 8, 32],
             accelerators: 0, medianSeconds: 3600, sigma: 1.0, maxSeconds: 8 * 3600, maxLatencyMs: nil),
    ]
    /// Shares of `kinds`, in order.
    public var mix: [Double] = [0.02, 0.30, 0.43, 0.05, 0.20]
    /// Relative amplitude of the daily swing (0 = flat, 1 = zero at the trough).
    public var diurnalAmplitude = 0.6
    /// Local hour of peak demand.
    public var peakHour = 14.0
    /// UTC offset of the local day.
    public var utcOffsetHours = 8
    /// Accelerator models asked for by training jobs, with shares; nil = any model.
    public var acceleratorModels: [(String?, Double)] = [("ascend-910b", 0.6), ("h20", 0.15), (nil, 0.25)]
    /// Share of CPU batch jobs that may be time-shifted, and by how much.
    public var flexibleShare = 0.5
    public var flexWindowHours = 8.0
    /// Share of batch and training jobs whose first run fails; they get `maxRetries` retries.
    public var failureShare = 0.02
    public var maxRetries = 2

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
                let at = Instant(microseconds: t.microseconds / 1_000_000 * 1_000_000)
                out.append(job(&rng, demand, at: at))
            }
        }
        // Stable order: time, then region order as listed (the sort is stable in Swift ≥ 5).
        let order = Dictionary(uniqueKeysWithValues: regions.enumerated().map { ($1.region, $0) })
        out.sort { $0.submitAt != $1.submitAt ? $0.submitAt < $1.submitAt
            : order[$0.spec.origin, default: 0] < order[$1.spec.origin, default: 0] }
        for i in out.indices { out[i].spec.name = String(i + 1) }
        return out
    }

    /// Arrivals per second for `demand` at `t`.
    public func rate(_ demand: RegionDemand, at t: Instant) -> Double {
        let local = t.secondsSinceEpoch / 3600 + Double(utcOffsetHours)
        let hour = local.truncatingRemainder(dividingBy: 24)
        let swing = cos(2 * Double.pi * (hour - peakHour) / 24)
        return demand.jobsPerHour / 3600 * max(0, 1 + diurnalAmplitude * swing)
    }

    private func job(_ rng: inout SeededRandom, _ d: RegionDemand, at: Instant) -> TraceJob {
        let kind = kinds[draw(&rng, mix)]
        let tenant = d.tenants[draw(&rng, d.tenants.map(\.1))].0
        func pick(_ options: [Double]) -> Double { options[Int(rng.next() % UInt64(options.count))] }
        var spec = JobSpec(tenant: tenant, origin: d.region, priorityClass: kind.priorityClass,
                           resources: ResourceRequest(cpu: pick(kind.cores), memoryGiB: pick(kind.memoryGiB)))
        spec.maxLatencyMs = kind.maxLatencyMs
        if kind.accelerators > 0 {
            spec.resources.accelerators = kind.accelerators
            spec.resources.acceleratorModel = acceleratorModels[draw(&rng, acceleratorModels.map(\.1))].0
            spec.replicas = rng.next() % 4 == 0 ? 2 : 1
        }
        let duration = logNormal(&rng, median: kind.medianSeconds, sigma: kind.sigma, max: kind.maxSeconds).rounded()
        spec.durationSeconds = max(1, duration)
        var failed = 0
        if kind.priorityClass == "batch" {
            if kind.accelerators == 0, rng.unit() < flexibleShare {
                let window = flexWindowHours * 3600
                spec.notAfter = at.advanced(bySeconds: window)
                spec.deadline = at.advanced(bySeconds: window + spec.durationSeconds!)
            }
            if rng.unit() < failureShare { failed = 1 }
            spec.maxRetries = maxRetries
        }
        return TraceJob(submitAt: at, spec: spec, failedRuns: failed)
    }

    /// Index drawn with probability proportional to `weights`.
    private func draw(_ rng: inout SeededRandom, _ weights: [Double]) -> Int {
        let total = weights.reduce(0, +)
        var u = rng.unit() * total
        for (i, w) in weights.enumerated() {
            if u < w { return i }
            u -= w
        }
        return weights.count - 1
    }

    private func logNormal(_ rng: inout SeededRandom, median: Double, sigma: Double, max cap: Double) -> Double {
        // Box–Muller for a standard normal.
        let u1 = Swift.max(rng.unit(), 1e-12), u2 = rng.unit()
        let z = (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
        return min(cap, Swift.max(1, median * exp(sigma * z)))
    }
}

extension SeededRandom {
    /// An exponentially distributed value with the given mean (inter-arrival times).
    fileprivate mutating func exponential(mean: Double) -> Double { -mean * log1p(-unit()) }
}
