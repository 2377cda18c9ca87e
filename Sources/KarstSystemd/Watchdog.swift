import CSystemd
import Logging
import ServiceLifecycle

/// Pings systemd's watchdog (`WATCHDOG=1`) at half the interval systemd asked for — but only
/// while `isMakingProgress()` says the daemon's engine is still turning, so a wedged engine stops
/// the pings and systemd kills and restarts it. Runs on its own timer: slow work (a reload, a
/// big batch) cannot delay a ping as long as the engine itself progresses.
public struct WatchdogService: Service {
    /// The interval systemd asked for, or nil when the watchdog is off (sd_watchdog_enabled(3)).
    public static var interval: Duration? {
        var usec: UInt64 = 0
        guard sd_watchdog_enabled(0, &usec) > 0, usec > 0 else { return nil }
        return .microseconds(Int64(usec))
    }

    let interval: Duration
    let notifier: any Notifier
    let isMakingProgress: @Sendable (Duration) -> Bool
    let logger: Logger

    /// `isMakingProgress(window)` answers whether the engine finished a batch within `window`.
    public init(interval: Duration, notifier: any Notifier, logger: Logger,
                isMakingProgress: @escaping @Sendable (Duration) -> Bool) {
        self.interval = interval
        self.notifier = notifier
        self.logger = logger
        self.isMakingProgress = isMakingProgress
    }

    public func run() async throws {
        let half = interval / 2
        var warned = false
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            if isMakingProgress(half) {
                notifier.watchdog()
                warned = false
            } else if !warned {
                logger.critical("the engine has made no progress for \(half); withholding watchdog pings")
                warned = true
            }
            try? await Task.sleep(for: half / 2)
        }
    }
}
