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

    /// From the protocol's units: fractional cores and GiB (rounded up to the next milli-core / MiB).
    public init(cpu: Double, memoryGiB: Double, accelerators: Int = 0) {
        self.milliCPU = Int64((cpu * 1000).rounded(.up))
        self.memoryMiB = Int64((memoryGiB * 1024).rounded(.up))
        self.accelerators = Int64(accelerators)
    }

    public static let zero = Resources(milliCPU: 0, memoryMiB: 0, accelerators: 0)

    public var cpu: Double { Double(milliCPU) / 1000 }
    public var memoryGiB: Double { Double(memoryMiB) / 1024 }

    /// True when every component is at most the other's.
    @inline(__always)
    public func fits(in other: Resources) -> Bool {
        milliCPU <= other.milliCPU && memoryMiB <= other.memoryMiB && accelerators <= other.accelerators
    }

    /// True when every component is zero or more.
    public var isNonNegative: Bool { milliCPU >= 0 && memoryMiB >= 0 && accelerators >= 0 }

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

    /// This vector times a whole factor (a gang's replicas).
    public func scaled(by factor: Int) -> Resources {
        Resources(milliCPU: milliCPU * Int64(factor), memoryMiB: memoryMiB * Int64(factor),
                  accelerators: accelerators * Int64(factor))
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
