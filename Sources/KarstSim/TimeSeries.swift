import KarstCore

/// Hourly buckets (aligned to whole hours) of time-integrated quantities, one row per key.
/// `add` spreads an interval over the buckets it covers.
public struct HourlySeries: Hashable, Sendable {
    /// Start of bucket 0.
    public let origin: Instant
    public let keys: Int
    /// `values[b * keys + k]`: the integral of key k over bucket b (value × seconds).
    public private(set) var values: [Double] = []

    public init(origin: Instant, keys: Int) {
        self.origin = origin
        self.keys = keys
    }

    /// Number of buckets touched so far.
    public var buckets: Int { keys == 0 ? 0 : values.count / keys }

    /// Adds `rate(k)` × seconds for each key over `[from, to)`.
    mutating func add(from: Instant, to: Instant, _ rate: (Int) -> Double) {
        var t = from.microseconds
        let end = to.microseconds
        while t < end {
            let b = Int((t - origin.microseconds) / 3_600_000_000)
            let bucketEnd = origin.microseconds + Int64(b + 1) * 3_600_000_000
            let stop = min(end, bucketEnd)
            let dt = Double(stop - t) / 1_000_000
            grow(to: b)
            for k in 0..<keys { values[b * keys + k] += rate(k) * dt }
            t = stop
        }
    }

    mutating func grow(to bucket: Int) {
        if (bucket + 1) * keys > values.count { values += Array(repeating: 0, count: (bucket + 1) * keys - values.count) }
    }

    /// The mean of key k over each bucket (integral / 3600).
    public func means(_ k: Int) -> [Double] { (0..<buckets).map { values[$0 * keys + k] / 3600 } }

    /// The start of bucket b.
    public func start(of b: Int) -> Instant { origin.advanced(bySeconds: Double(b) * 3600) }
}
