/// The sample at quantile `p` (0…1) of ascending `sorted` samples (nearest rank below); 0 when
/// there are none. Shared by `socket` and `soak`.
func percentile(_ sorted: [Double], _ p: Double) -> Double {
    sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * p))]
}

/// Seconds as whole microseconds.
func micros(_ s: Double) -> Int { Int((s * 1e6).rounded()) }
