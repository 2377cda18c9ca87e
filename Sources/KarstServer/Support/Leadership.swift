import Foundation
import KarstConfig
import KarstCore
import KarstPostgres
import KarstStore
import Logging
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#endif

/// A replica of the PostgreSQL backend: waits as a standby until it holds the leader lease, then
/// recovers the state and serves; keeps the lease while it lives, and steps down — exits, for
/// the service manager to start it again as a standby — the moment it cannot be sure it still
/// holds it.
public enum Leadership {
    /// The exit status of a replica that lost its lease (EX_TEMPFAIL: start it again).
    public static let steppedDown: Int32 = 75

    /// This replica's name: `[state.postgres] replica`, else the host name.
    static func replicaName(_ settings: PostgresSettings) -> String {
        if let r = settings.replica { return r }
        var buffer = [UInt8](repeating: 0, count: 256)
        _ = buffer.withUnsafeMutableBufferPointer { gethostname(UnsafeMutableRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self), $0.count - 1) }
        return String(decoding: buffer.prefix { $0 != 0 }, as: UTF8.self)
    }

    /// Connects, waits (as a standby) for the lease, then loads the state it leads.
    static func lead(_ configuration: KarstConfiguration, logger: Logger,
                     status: (@Sendable (String) -> Void)?) async throws -> (PostgresStore, SchedulerState, Int) {
        let settings = configuration.state.postgres ?? PostgresSettings()
        let replica = replicaName(settings)
        let store = try PostgresStore(settings: settings, password: try PostgresStore.password(for: settings), replica: replica,
                                      logger: logger, monotonic: ScaledWallClock.monotonicSeconds)
        var said: String? = nil
        while true {
            do {
                if let epoch = try store.acquire(address: settings.address) {
                    logger.notice("\(replica) leads: epoch \(epoch) of the lease on \(settings.database)@\(settings.host)")
                    break
                }
                let l = try store.leader()
                let line = "standby; leader is \(l.holder ?? "nobody")\(l.address.map { " at \($0)" } ?? ""), epoch \(l.epoch)"
                if line != said {
                    logger.notice("\(line) (lease \(String(format: "%.1f", max(0, l.expiresIn))) s left)")
                    status?(line)
                    said = line
                }
            } catch {
                let line = "standby; the database cannot be reached: \(error)"
                if line != said {
                    logger.warning("\(line)")
                    status?(line)
                    said = line
                }
            }
            try await Task.sleep(for: .seconds(settings.renewSeconds))
        }
        let started = ScaledWallClock.monotonicSeconds()
        let stored = try store.load()
        let (state, _) = try SchedulerState.restore(
            topology: configuration.topology, records: stored.records, nextJobNumber: stored.nextJobNumber,
            datacenterStates: stored.datacenterStates)
        let ms = Int((ScaledWallClock.monotonicSeconds() - started) * 1000)
        logger.notice("recovered \(stored.records.count) jobs (\(state.pendingCount) pending, \(state.runningTotal) running) from PostgreSQL in \(ms) ms")
        return (store, state, stored.generation)
    }
}

/// Renews the lease every `renew_seconds` on a thread of its own (each renewal is a blocking
/// round trip), and steps down when the database says another replica holds it, or when the
/// term ran out by this replica's clock without a renewal (the database out of reach).
struct LeaseKeeper: Service {
    let store: PostgresStore
    let logger: Logger

    func run() async throws {
        let stop = StopFlag()
        let store = self.store, logger = self.logger
        let thread = Thread {
            while !stop.isSet {
                let due = store.currentTerm.renewalDue ?? ScaledWallClock.monotonicSeconds()
                let wait = due - ScaledWallClock.monotonicSeconds()
                if wait > 0 { Thread.sleep(forTimeInterval: min(wait, 0.1)); continue }
                do {
                    if try !store.renew() {
                        logger.critical("another replica holds the leader lease now: stepping down",
                                        metadata: ["leader": "lost"])
                        exit(Leadership.steppedDown)
                    }
                } catch {
                    logger.warning("the leader lease could not be renewed: \(error)")
                    if !store.currentTerm.mayWrite(now: ScaledWallClock.monotonicSeconds()) {
                        logger.critical("the leader lease ran out without a renewal: stepping down",
                                        metadata: ["leader": "lost"])
                        exit(Leadership.steppedDown)
                    }
                    Thread.sleep(forTimeInterval: min(0.5, store.settings.renewSeconds / 2))
                }
            }
        }
        thread.start()
        try? await gracefulShutdown()
        stop.set()
    }
}

/// A flag one thread sets and another polls.
final class StopFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
    func set() { lock.lock(); value = true; lock.unlock() }
}
