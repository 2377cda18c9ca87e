/// A point in wall-clock time, in whole microseconds since the Unix epoch (UTC).
///
/// `KarstCore` never reads a clock: every function that needs "now" takes an `Instant`. The daemon
/// passes the system clock, tests a manual clock and the simulator a virtual one, so the same inputs
/// always give the same decisions.
public struct Instant: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Microseconds since 1970-01-01T00:00:00Z.
    public var microseconds: Int64

    public init(microseconds: Int64) { self.microseconds = microseconds }

    /// An instant from fractional seconds since the epoch (rounded to the microsecond; saturated
    /// to the representable range, NaN taken as the epoch).
    public init(secondsSinceEpoch seconds: Double) {
        self.microseconds = Instant.saturatingMicroseconds(seconds)
    }

    /// Seconds since the epoch.
    public var secondsSinceEpoch: Double { Double(microseconds) / 1_000_000 }

    /// This instant moved by `seconds` (negative moves back). Saturating: a move past either end
    /// of the representable range stops there (`Instant.never` going forward), and NaN moves
    /// nothing, so no duration can trap the caller.
    @inline(__always)
    public func advanced(bySeconds seconds: Double) -> Instant {
        let us = Instant.saturatingMicroseconds(seconds)
        // A move that itself saturated is beyond the range: it ends at the range's end.
        if us == .max || us == .min { return Instant(microseconds: us) }
        let (sum, overflow) = microseconds.addingReportingOverflow(us)
        if !overflow { return Instant(microseconds: sum) }
        return Instant(microseconds: us > 0 ? .max : .min)
    }

    /// Seconds from `self` to `other` (positive when `other` is later); exact while the
    /// difference fits in Int64 microseconds, computed in floating point beyond.
    public func seconds(to other: Instant) -> Double {
        let (d, overflow) = other.microseconds.subtractingReportingOverflow(microseconds)
        if !overflow { return Double(d) / 1_000_000 }
        return (Double(other.microseconds) - Double(microseconds)) / 1_000_000
    }

    /// `seconds` in whole microseconds, rounded, clamped to Int64's range; NaN is 0.
    @inline(__always)
    static func saturatingMicroseconds(_ seconds: Double) -> Int64 {
        let us = (seconds * 1_000_000).rounded()
        // 2^63 is exactly representable; every double below it converts without trapping.
        if us >= 9_223_372_036_854_775_808.0 { return .max }
        if us <= -9_223_372_036_854_775_808.0 { return .min }
        return us.isNaN ? 0 : Int64(us)
    }

    /// The hour of the day (0–23) at a fixed UTC offset, for hourly price and clean-share curves.
    public func hourOfDay(utcOffsetHours: Int) -> Int {
        let local = microseconds / 1_000_000 + Int64(utcOffsetHours % 24) * 3600
        let hour = (local / 3600) % 24
        return Int(hour < 0 ? hour + 24 : hour)
    }

    /// Later than any real instant: "until something other than the clock changes".
    public static let never = Instant(microseconds: .max)

    /// The first whole hour (of UTC, and so of any whole-hour offset) strictly after this instant.
    public var nextWholeHour: Instant {
        let hour: Int64 = 3_600_000_000
        let into = ((microseconds % hour) + hour) % hour
        // hour − into is in (0, hour]: only the top of the range can overflow, and saturates.
        let (next, overflow) = microseconds.addingReportingOverflow(hour - into)
        return Instant(microseconds: overflow ? .max : next)
    }

    public static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.microseconds < rhs.microseconds }

    public var description: String { rfc3339 }
}
