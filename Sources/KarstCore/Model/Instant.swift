/// A point in wall-clock time, in whole microseconds since the Unix epoch (UTC).
///
/// `KarstCore` never reads a clock: every function that needs "now" takes an `Instant`. The daemon
/// passes the system clock, tests a manual clock and the simulator a virtual one, so the same inputs
/// always give the same decisions.
public struct Instant: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Microseconds since 1970-01-01T00:00:00Z.
    public var microseconds: Int64

    public init(microseconds: Int64) { self.microseconds = microseconds }

    /// An instant from fractional seconds since the epoch (rounded to the microsecond).
    public init(secondsSinceEpoch seconds: Double) {
        self.microseconds = Int64((seconds * 1_000_000).rounded())
    }

    /// Seconds since the epoch.
    public var secondsSinceEpoch: Double { Double(microseconds) / 1_000_000 }

    /// This instant moved by `seconds` (negative moves back).
    public func advanced(bySeconds seconds: Double) -> Instant {
        Instant(microseconds: microseconds &+ Int64((seconds * 1_000_000).rounded()))
    }

    /// Seconds from `self` to `other` (positive when `other` is later).
    public func seconds(to other: Instant) -> Double {
        Double(other.microseconds &- microseconds) / 1_000_000
    }

    /// The hour of the day (0–23) at a fixed UTC offset, for hourly price and clean-share curves.
    public func hourOfDay(utcOffsetHours: Int) -> Int {
        let local = microseconds / 1_000_000 + Int64(utcOffsetHours) * 3600
        let hour = (local / 3600) % 24
        return Int(hour < 0 ? hour + 24 : hour)
    }

    /// Later than any real instant: "until something other than the clock changes".
    public static let never = Instant(microseconds: .max)

    /// The first whole hour (of UTC, and so of any whole-hour offset) strictly after this instant.
    public var nextWholeHour: Instant {
        let hour: Int64 = 3_600_000_000
        let into = ((microseconds % hour) + hour) % hour
        return Instant(microseconds: microseconds - into + hour)
    }

    public static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.microseconds < rhs.microseconds }

    public var description: String { rfc3339 }
}
