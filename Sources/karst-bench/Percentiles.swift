/// The sample at quantile `p` (0…1) of ascending `sorted` samples (nearest rank below); 0 when
/// there are none. Shared by `socket` and `soak`.
func percentile(_ sorted: [Double], _ p: Double) -> Double {
    sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * p))]
}

/// The middle value; of an even count, the mean of the two middle ones (`percentile` takes the
/// lower one, which for a handful of rounds would be biased low).
func median(_ values: [Double]) -> Double {
    let s = values.sorted()
    guard !s.isEmpty else { return 0 }
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

/// Seconds as whole microseconds.
func micros(_ s: Double) -> Int { Int((s * 1e6).rounded()) }
