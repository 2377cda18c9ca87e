import Foundation
import KarstConfig
import KarstCore
import KarstStore
import Logging
import NIOCore
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#endif

/// Opens the shared store a replica leads from (karstd passes `PostgresStore`'s; the server
/// itself does not link a database client).
public typealias ReplicatedStoreFactory = @Sendable (PostgresSettings, Logger) throws -> any ReplicatedStore

/// A replica of the PostgreSQL backend: waits as a standby until it holds the leader lease, then
/// recovers the state and serves; keeps the lease while it lives, and steps down — exits, for
/// the service manager to start it again as a standby — the moment it cannot be sure it still
/// holds it.
public enum Leadership {
    /// The exit status of a replica that lost its lease (EX_TEMPFAIL: start it again).
    public static let steppedDown: Int32 = 75

    /// This replica's name: `[state.postgres] replica`, else the host name.
    public static func replicaName(_ settings: PostgresSettings) -> String {
        if let r = settings.replica { return r }
        var buffer = [UInt8](repeating: 0, count: 256)
        _ = buffer.withUnsafeMutableBufferPointer { gethostname(UnsafeMutableRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self), $0.count - 1) }
        return String(decoding: buffer.prefix { $0 != 0 }, as: UTF8.self)
    }

    /// Opens the shared store (`DaemonOptions.replicatedStore`), waits (as a standby) for the
    /// lease, then loads the state it leads. While it waits, `standby` (when given) answers calls
    /// on the control socket with `NotLeader`, served on its event loops; it is stopped before
    /// this returns (when this throws, the caller stops it). `status` gets the standby's line when
    /// it changes, `alive` is called at every check of the lease.
    ///
    /// The standby starts answering only after the first check of the lease, so that its first
    /// answer already names the leader: a standby started beside a leader never says that no
    /// replica leads. Until then (opening the store, migrating, reading the lease) its socket does
    /// not exist yet, or, socket-activated, holds the connections until it answers. Should the
    /// database go away between the opening and that check, it starts answering all the same.
    static func lead(_ configuration: KarstConfiguration, open: ReplicatedStoreFactory, logger: Logger,
                     standby: (server: StandbyServer, group: any EventLoopGroup)?,
                     status: (@Sendable (String) -> Void)?, alive: (@Sendable () -> Void)? = nil) async throws
        -> (any ReplicatedStore, SchedulerState, Int)
    {
        let settings = configuration.state.postgres ?? PostgresSettings()
        let store = try open(settings, logger)
        let replica = store.replica
        var said: String? = nil
        var nextCheck = 0.0
        var answering = false
        while true {
            // The watchdog is fed between checks of the lease at least every second, whatever
            // renew_seconds is (a check itself waits at most the lease connection's deadline).
            alive?()
            let now = ScaledWallClock.monotonicSeconds()
            if now < nextCheck {
                try await Task.sleep(for: .seconds(min(1, nextCheck - now)))
                continue
            }
            nextCheck = now + settings.renewSeconds
            let line: String
            do {
                if let epoch = try store.acquire(address: settings.address) {
                    logger.notice("\(replica) leads: epoch \(epoch) of the lease on \(store.location)")
                    break
                }
                let l = try store.leader()
                standby?.server.current.leader.withLock { $0 = l }
                line = "standby; leader is \(l.holder ?? "nobody")\(l.address.map { " at \($0)" } ?? ""), epoch \(l.epoch)"
                if line != said { logger.notice("\(line) (lease \(String(format: "%.1f", max(0, l.expiresIn))) s left)") }
            } catch {
                line = "standby; the database cannot be reached: \(error)"
                if line != said { logger.warning("\(line)") }
            }
            // Serving from here on, before the status line (READY=1 under systemd) is given.
            if !answering, let standby {
                try await standby.server.start(on: standby.group)
                answering = true
            }
            if line != said {
                status?(line)
                said = line
            }
        }
        await standby?.server.stop()
        // A large state takes seconds to load (a million jobs, 6-7 s here): the lease is kept,
        // and the watchdog fed, meanwhile, as LeaseKeeper does once the daemon serves.
        let stop = StopFlag(), renewing = DispatchGroup()
        LeaseKeeper.renewalThread(store: store, logger: logger, stop: stop, alive: alive, done: renewing).start()
        defer {
            // Over before LeaseKeeper's own thread starts: one renewal at a time on the lease's connection.
            stop.set()
            renewing.wait()
        }
        let (state, generation) = try KarstDaemon.restore(configuration, from: store, named: store.location, logger: logger)
        return (store, state, generation)
    }
}

/// Renews the lease every `renew_seconds` on a thread of its own (each renewal is a blocking
/// round trip), and steps down when the database says another replica holds it, or when the
/// term ran out by this replica's clock without a renewal (the database out of reach).
struct LeaseKeeper: Service {
    let store: any ReplicatedStore
    let logger: Logger

    func run() async throws {
        let stop = StopFlag()
        Self.renewalThread(store: store, logger: logger, stop: stop).start()
        try? await gracefulShutdown()
        stop.set()
    }

    /// A thread that renews the lease when due until `stop` is set, calling `alive` at least
    /// every tenth of a second, and exits the process (status 75) when the lease is lost or ran
    /// out without a renewal. `done` is left when the thread ends.
    static func renewalThread(store: any ReplicatedStore, logger: Logger, stop: StopFlag,
                              alive: (@Sendable () -> Void)? = nil, done: DispatchGroup? = nil) -> Thread {
        done?.enter()
        return Thread {
            defer { done?.leave() }
            var lastAlive = 0.0
            while !stop.isSet {
                let now = ScaledWallClock.monotonicSeconds()
                if let alive, now - lastAlive >= 0.1 {
                    alive()
                    lastAlive = now
                }
                let due = store.currentTerm.renewalDue ?? now
                let wait = due - now
                if wait > 0 { Thread.sleep(forTimeInterval: min(wait, 0.1)); continue }
                do {
                    if try !store.renew() {
                        logger.critical("another replica holds the leader lease now: stepping down",
                                        metadata: ["leader": "lost"])
                        exitProcess(Leadership.steppedDown)
                    }
                } catch {
                    logger.warning("the leader lease could not be renewed: \(error)")
                    if !store.mayWriteNow {
                        logger.critical("the leader lease ran out without a renewal: stepping down",
                                        metadata: ["leader": "lost"])
                        exitProcess(Leadership.steppedDown)
                    }
                    Thread.sleep(forTimeInterval: min(0.5, store.renewSeconds / 2))
                }
            }
        }
    }
}

/// A flag one thread sets and another polls.
final class StopFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
    func set() { lock.lock(); value = true; lock.unlock() }
}
