import KarstCore

/// The trace files' time stamps: `YYYY-MM-DD HH:MM:SS` in a fixed local offset (Helios's own
/// layout; the hub's China Standard Time, UTC+8, by default). RFC 3339 and plain epoch seconds
/// are accepted on input too.
public struct TraceTime: Sendable {
    public var utcOffsetHours: Int

    public init(utcOffsetHours: Int = 8) { self.utcOffsetHours = utcOffsetHours }

    /// `2026-07-01 10:00:00` for an instant (whole seconds, rounded down).
    public func format(_ t: Instant) -> String {
        let seconds = t.microseconds >= 0 ? t.microseconds / 1_000_000 : (t.microseconds - 999_999) / 1_000_000
        let local = Instant(microseconds: (seconds + Int64(utcOffsetHours) * 3600) * 1_000_000).rfc3339
        // "YYYY-MM-DDTHH:MM:SSZ" → "YYYY-MM-DD HH:MM:SS"
        return String(local.prefix(10)) + " " + String(local.dropFirst(11).prefix(8))
    }

    /// Parses `YYYY-MM-DD HH:MM:SS` (local), an RFC 3339 time, or epoch seconds.
    public func parse(_ text: Substring) -> Instant? {
        if text.count == 19, text.utf8[text.utf8.index(text.utf8.startIndex, offsetBy: 10)] == 32 {
            return Instant(rfc3339: String(text) + Self.offsetSuffix(hours: utcOffsetHours))
        }
        if let t = Instant(rfc3339: String(text)) { return t }
        if let s = Double(text), s.isFinite { return Instant(secondsSinceEpoch: s) }
        return nil
    }

    /// `+08:00` for 8.
    public static func offsetSuffix(hours: Int) -> String {
        let h = abs(hours)
        return (hours < 0 ? "-" : "+") + (h < 10 ? "0" : "") + "\(h):00"
    }
}
