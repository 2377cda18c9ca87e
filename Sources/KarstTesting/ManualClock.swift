import KarstCore
import Synchronization

/// A clock that only moves when told to. Tests and the simulator hand its `now` to the core.
public final class ManualClock: Sendable {
    private let current: Mutex<Instant>

    /// Starts at `start` (default 2026-07-01T00:00:00Z, a Wednesday, midnight UTC = 08:00 in Gui'an).
    public init(start: Instant = Instant(rfc3339: "2026-07-01T00:00:00Z")!) {
        current = Mutex(start)
    }

    public var now: Instant { current.withLock { $0 } }

    /// Moves the clock forward and returns the new time.
    @discardableResult
    public func advance(bySeconds seconds: Double) -> Instant {
        current.withLock { now in
            now = now.advanced(bySeconds: seconds)
            return now
        }
    }

    /// Sets the clock to `instant` (which may not be earlier than now).
    public func set(_ instant: Instant) {
        current.withLock { now in
            precondition(instant >= now, "a manual clock never goes back")
            now = instant
        }
    }
}
