import Foundation
import Synchronization

/// Where the soak's workers (load clients, watcher, admin) wait while the daemon is down and its
/// restarted state is being verified. The controller closes the gate just before each kill; a
/// worker ends its session at its next call (or when the dead connection fails it) and parks;
/// once every worker is parked no call is in flight, so the ledger holds still for the check;
/// then the gate opens on a new generation and the workers reconnect.
final class SoakGate: Sendable {
    private struct State {
        var generation = 0
        var open = false
        var stopping = false
        var parked = 0
    }

    private let state = Mutex(State())

    /// Parks until the gate opens on a generation after `seen` (returns it) or the run stops
    /// (returns nil).
    func enter(after seen: Int) -> Int? {
        state.withLock { $0.parked += 1 }
        defer { state.withLock { $0.parked -= 1 } }
        while true {
            let (open, generation, stopping) = state.withLock { ($0.open, $0.generation, $0.stopping) }
            if stopping { return nil }
            if open && generation > seen { return generation }
            usleep(2_000)
        }
    }

    /// Whether a worker admitted in `generation` may make another call.
    func admits(_ generation: Int) -> Bool {
        state.withLock { $0.open && !$0.stopping && $0.generation == generation }
    }

    func close() { state.withLock { $0.open = false } }

    func open() {
        state.withLock {
            $0.generation += 1
            $0.open = true
        }
    }

    /// No more sessions: parked workers return nil, working ones stop at their next call.
    func stop() { state.withLock { $0.stopping = true } }

    /// Waits until `workers` are parked (true), or `seconds` pass (false).
    func waitUntilParked(_ workers: Int, seconds: Double) -> Bool {
        let deadline = monotonicSeconds() + seconds
        while monotonicSeconds() < deadline {
            if state.withLock({ $0.parked }) >= workers { return true }
            usleep(1_000)
        }
        return false
    }
}
