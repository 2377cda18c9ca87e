import KarstCore

#if canImport(Glibc)
import Glibc
#endif

/// Where the daemon's "now" comes from. The core never reads a clock; the engine asks this.
public protocol ModelClock: Sendable {
    /// The current model time.
    func now() -> Instant
    /// Wall-clock seconds until the model reaches `instant` (0 if already past).
    func wallSeconds(until instant: Instant) -> Double
    /// Seconds on a clock that never goes back, for the engine's own pacing: how often gauges
    /// refresh, the placement rate, when finished jobs are pruned. A test's manual clock drives
    /// them with the model's time.
    func monotonicSeconds() -> Double
}

/// Wall time, optionally running `timeScale` times faster from the moment the daemon started:
/// with `--time-scale 60` a job of one modelled hour completes after one wall minute.
public struct ScaledWallClock: ModelClock {
    public let timeScale: Double
    private let wallStart: Instant
    private let monotonicStart: Double

    public init(timeScale: Double = 1) {
        precondition(timeScale > 0)
        self.timeScale = timeScale
        wallStart = Self.wallNow()
        monotonicStart = Self.monotonicSeconds()
    }

    public func now() -> Instant {
        wallStart.advanced(bySeconds: (Self.monotonicSeconds() - monotonicStart) * timeScale)
    }

    public func wallSeconds(until instant: Instant) -> Double {
        max(0, now().seconds(to: instant) / timeScale)
    }

    public func monotonicSeconds() -> Double { Self.monotonicSeconds() }

    static func wallNow() -> Instant {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Instant(microseconds: Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1000)
    }

    public static func monotonicSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}
