import CSystemd

#if canImport(Glibc)
import Glibc
#endif

/// Tells the service manager about the daemon's life (sd_notify(3)). Every method is a no-op
/// when the daemon was not started by systemd (`NOTIFY_SOCKET` unset).
public protocol Notifier: Sendable {
    func send(_ assignments: String)
}

extension Notifier {
    /// `READY=1`: the store is loaded and the socket is served.
    public func ready(status: String) { send("READY=1\nSTATUS=\(status)") }
    /// A one-line `STATUS=`.
    public func status(_ line: String) { send("STATUS=\(line)") }
    /// `RELOADING=1` with the monotonic time, as `Type=notify-reload` expects (and harmless under
    /// `Type=notify`).
    public func reloading() { send("RELOADING=1\nMONOTONIC_USEC=\(monotonicMicroseconds())\nSTATUS=reloading the configuration") }
    /// `STOPPING=1`.
    public func stopping() { send("STOPPING=1\nSTATUS=stopping: answering what was read") }
    /// `WATCHDOG=1`.
    public func watchdog() { send("WATCHDOG=1") }
}

/// The real thing, through libsystemd.
public struct SystemdNotifier: Notifier {
    public init() {}

    /// Whether systemd asked for notifications.
    public static var isEnabled: Bool { getenv("NOTIFY_SOCKET") != nil }

    public func send(_ assignments: String) {
        _ = sd_notify(0, assignments)
    }
}

func monotonicMicroseconds() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000 + UInt64(ts.tv_nsec) / 1000
}
