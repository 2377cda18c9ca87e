import KarstCore
import KarstTrace

/// A scripted change to a data centre during a replay: `2026-07-01T10:00 offline tc-qixing`.
public struct SiteEvent: Hashable, Sendable, CustomStringConvertible {
    /// What happens to the site.
    public enum Action: String, Hashable, Sendable, CaseIterable {
        /// Down: its running jobs are requeued (`SchedulerState.setOffline`).
        case offline
        /// No new placements; running jobs finish (`drain`).
        case drain
        /// Takes work again (`resume`).
        case resume
    }

    public var at: Instant
    public var action: Action
    public var datacenter: String

    public init(at: Instant, action: Action, datacenter: String) {
        self.at = at
        self.action = action
        self.datacenter = datacenter
    }

    /// Parses `TIME ACTION DATACENTRE`. TIME is `YYYY-MM-DDTHH:MM[:SS]` with an optional `Z` or
    /// `±hh:mm` (hub local time, `utcOffsetHours`, when absent), or `+DURATION` after `origin`
    /// (the replay's first arrival), e.g. `+26h`, `+1d2h30m`.
    public init(parsing text: String, origin: Instant, utcOffsetHours: Int) throws(SimError) {
        let parts = text.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 3 else {
            throw .usage("--event '\(text)': expected TIME ACTION DATACENTRE, e.g. '2026-07-01T10:00 offline tc-qixing'")
        }
        guard let action = Action(rawValue: String(parts[1])) else {
            throw .usage("--event '\(text)': unknown action '\(parts[1])' (offline, drain or resume)")
        }
        guard let at = SiteEvent.time(String(parts[0]), origin: origin, utcOffsetHours: utcOffsetHours) else {
            throw .usage("--event '\(text)': '\(parts[0])' is not a time (2026-07-01T10:00, 2026-07-01T10:00:00+08:00 or +26h)")
        }
        self.init(at: at, action: action, datacenter: String(parts[2]))
    }

    static func time(_ s: String, origin: Instant, utcOffsetHours: Int) -> Instant? {
        if s.hasPrefix("+") { return parseDuration(String(s.dropFirst())).map { origin.advanced(bySeconds: $0) } }
        if let t = Instant(rfc3339: s) { return t }
        guard s.count >= 16 else { return nil }
        var text = s
        if s.count == 16 || s.dropFirst(16).first != ":" {  // no seconds: 2026-07-01T10:00[zone]
            text = s.prefix(16) + ":00" + s.dropFirst(16)
        }
        if text.count == 19 { text += TraceTime.offsetSuffix(hours: utcOffsetHours) }  // hub local time
        return Instant(rfc3339: text)
    }

    public var description: String { "\(at.rfc3339) \(action.rawValue) \(datacenter)" }
}

/// Seconds in `1d2h30m15s`, `90m`, `36h`, `3600` (plain seconds); nil when malformed.
public func parseDuration(_ text: String) -> Double? {
    if let s = Double(text), s >= 0 { return s }
    var total = 0.0, number = "", sawUnit = false
    for c in text {
        if c.isNumber || c == "." { number.append(c); continue }
        guard let n = Double(number) else { return nil }
        switch c {
        case "d": total += n * 86_400
        case "h": total += n * 3600
        case "m": total += n * 60
        case "s": total += n
        default: return nil
        }
        number = ""
        sawUnit = true
    }
    return sawUnit && number.isEmpty ? total : nil
}
