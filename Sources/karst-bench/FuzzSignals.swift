import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The daemon to kill should this process be interrupted (0: none).
private let fuzzWatchedPID = Atomic<Int32>(0)
private let fuzzSignalsInstalled = Atomic<Bool>(false)

/// Kills the daemon a campaign or flood started when the bench is interrupted (SIGINT, SIGTERM,
/// SIGHUP): it runs as root and must never be left behind.
enum FuzzSignals {
    static func install() {
        _ = fuzzWatchedPID.load(ordering: .relaxed)  // initialised before any handler can run
        guard !fuzzSignalsInstalled.exchange(true, ordering: .relaxed) else { return }
        for sig in [SIGINT, SIGTERM, SIGHUP] {
            signal(sig) { sig in
                let pid = fuzzWatchedPID.load(ordering: .relaxed)
                if pid > 0 { kill(pid, SIGKILL) }
                _exit(128 + sig)
            }
        }
    }

    static func watch(_ pid: Int32) { fuzzWatchedPID.store(pid, ordering: .relaxed) }

    static func forget(_ pid: Int32) {
        _ = fuzzWatchedPID.compareExchange(expected: pid, desired: 0, ordering: .relaxed)
    }
}
