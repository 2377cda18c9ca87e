/// The value at quantile `p` (0…1) of sorted values: nearest rank, rounding to the closer index.
public func percentile(_ sorted: [Double], _ p: Double) -> Double? {
    guard !sorted.isEmpty else { return nil }
    let i = min(sorted.count - 1, Int((Double(sorted.count - 1) * p).rounded()))
    return sorted[i]
}

/// Jain's fairness index of non-negative values: (Σx)² / (n Σx²); 1 when all are equal, 1/n when
/// one has everything. Nil for no values or all zero.
public func jainIndex(_ values: [Double]) -> Double? {
    let sum = values.reduce(0, +)
    let squares = values.reduce(0) { $0 + $1 * $1 }
    guard !values.isEmpty, squares > 0 else { return nil }
    return sum * sum / (Double(values.count) * squares)
}

/// `count` evenly spaced quantiles (0, 1/(count−1), …, 1) of sorted values: a compact CDF.
public func quantiles(_ sorted: [Double], count: Int) -> [Double] {
    guard !sorted.isEmpty, count > 1 else { return [] }
    return (0..<count).map { percentile(sorted, Double($0) / Double(count - 1))! }
}
