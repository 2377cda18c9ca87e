/// A resource vector in exact integer units: milli-cores, MiB of memory, whole accelerators.
///
/// Integers keep capacity arithmetic exact: allocating and releasing the same vector any number of
/// times returns a pool to exactly where it was, which the "never over-commit" invariant relies on.
public struct Resources: Hashable, Sendable, CustomStringConvertible {
    public var milliCPU: Int64
    public var memoryMiB: Int64
    public var accelerators: Int64

    public init(milliCPU: Int64, memoryMiB: Int64, accelerators: Int64 = 0) {
        self.milliCPU = milliCPU
        self.memoryMiB = memoryMiB
        self.accelerators = accelerators
    }

    /// From the protocol's units: fractional cores and GiB (rounded up to the next milli-core /
    /// MiB). Saturating: a value beyond Int64's range becomes `Int64.max` (larger than any pool,
    /// so such a job is unschedulable, never a trap), below it `Int64.min`; NaN becomes 0.
    /// Validation refuses NaN and negative values before they get here.
    public init(cpu: Double, memoryGiB: Double, accelerators: Int = 0) {
        self.milliCPU = Resources.saturating(cpu * 1000)
        self.memoryMiB = Resources.saturating(memoryGiB * 1024)
        self.accelerators = Int64(accelerators)
    }

    @inline(__always)
    static func saturating(_ units: Double) -> Int64 {
        let up = units.rounded(.up)
        if up >= 9_223_372_036_854_775_808.0 { return .max }
        if up <= -9_223_372_036_854_775_808.0 { return .min }
        return up.isNaN ? 0 : Int64(up)
    }

    public static let zero = Resources(milliCPU: 0, memoryMiB: 0, accelerators: 0)

    public var cpu: Double { Double(milliCPU) / 1000 }
    public var memoryGiB: Double { Double(memoryMiB) / 1024 }

    /// True when every component is at most the other's.
    @inline(__always)
    public func fits(in other: Resources) -> Bool {
        milliCPU <= other.milliCPU && memoryMiB <= other.memoryMiB && accelerators <= other.accelerators
    }

    /// Every component in 0…2⁴⁰ (a trillion milli-cores, MiB or accelerators: far beyond any
    /// hub), so that sums over millions of such vectors stay exact. Submission guarantees it
    /// (a job must fit a pool); a restore holds a stored job that breaks it.
    public var isCountable: Bool {
        let most: Int64 = 1 << 40
        return (0...most).contains(milliCPU) && (0...most).contains(memoryMiB) && (0...most).contains(accelerators)
    }

    /// True when every component is zero or more.
    public var isNonNegative: Bool { milliCPU >= 0 && memoryMiB >= 0 && accelerators >= 0 }

    // Sums and differences trap on overflow, and cannot reach it: every vector the state adds
    // up is an admitted demand (it fits a pool, and pools are bounded by the configuration) or
    // a restored one that `isCountable` admits (each component at most 2⁴⁰), so millions of
    // them sum far below Int64's range. Conversions and scaling, which take outside values,
    // saturate instead.
    public static func + (a: Resources, b: Resources) -> Resources {
        Resources(milliCPU: a.milliCPU + b.milliCPU, memoryMiB: a.memoryMiB + b.memoryMiB,
                  accelerators: a.accelerators + b.accelerators)
    }

    public static func - (a: Resources, b: Resources) -> Resources {
        Resources(milliCPU: a.milliCPU - b.milliCPU, memoryMiB: a.memoryMiB - b.memoryMiB,
                  accelerators: a.accelerators - b.accelerators)
    }

    public static func += (a: inout Resources, b: Resources) { a = a + b }
    public static func -= (a: inout Resources, b: Resources) { a = a - b }

    /// This vector times a whole factor (a gang's replicas); saturating at `Int64.max` (larger
    /// than any pool), so an absurd gang is unschedulable rather than a trap.
    public func scaled(by factor: Int) -> Resources {
        func times(_ v: Int64) -> Int64 {
            let (p, overflow) = v.multipliedReportingOverflow(by: Int64(factor))
            return overflow ? ((v < 0) != (factor < 0) ? .min : .max) : p
        }
        return Resources(milliCPU: times(milliCPU), memoryMiB: times(memoryMiB), accelerators: times(accelerators))
    }

    /// The largest fraction of `total` this vector takes in any dimension (the DRF dominant share).
    /// Dimensions where `total` is zero are ignored.
    @inline(__always)
    public func dominantShare(of total: Resources) -> Double {
        var share = 0.0
        if total.milliCPU > 0 { share = Double(milliCPU) / Double(total.milliCPU) }
        if total.memoryMiB > 0 { share = Swift.max(share, Double(memoryMiB) / Double(total.memoryMiB)) }
        if total.accelerators > 0 {
            share = Swift.max(share, Double(accelerators) / Double(total.accelerators))
        }
        return share
    }

    /// The name of the first dimension in which `self` exceeds `limit` (`cpu`, `memory`,
    /// `accelerators`), or nil when it fits.
    public func firstExceeded(_ limit: Resources) -> String? {
        if milliCPU > limit.milliCPU { return "cpu" }
        if memoryMiB > limit.memoryMiB { return "memory" }
        if accelerators > limit.accelerators { return "accelerators" }
        return nil
    }

    public var description: String {
        var s = "cpu=\(cpu) mem=\(memoryGiB)GiB"
        if accelerators > 0 { s += " acc=\(accelerators)" }
        return s
    }
}
