import KarstConfig
import KarstCore
import Logging
import NIOCore
import NIOPosix
import KarstStore
import Prometheus
import ServiceLifecycle

/// How to run the daemon (from `karstd`'s command line).
public struct DaemonOptions: Sendable {
    /// Configuration file; the built-in Guizhou hub when nil.
    public var configPath: String?
    public var listen: ListenTarget
    /// The model runs this many times faster than wall time.
    public var timeScale: Double = 1
    /// Where the optional Prometheus HTTP endpoint listens (off when nil).
    public var metricsListen: MetricsHTTPServer.Target?
    /// Where the state lives; nil keeps everything in memory (nothing survives a restart).
    public var stateDirectory: String?
    /// Opens the shared store of `[state] backend = "postgres"` (karstd gives PostgreSQL's).
    public var replicatedStore: ReplicatedStoreFactory?

    public init(configPath: String?, listen: ListenTarget) {
        self.configPath = configPath
        self.listen = listen
    }
}

/// The daemon as a library: builds the engine and the services and runs them until SIGTERM or
/// SIGINT. `karstd` is a thin wrapper; tests build the same pieces around a manual clock.
public enum KarstDaemon {
    /// The default control socket path outside systemd: `$RUNTIME_DIRECTORY/karstd.sock` under
    /// systemd, else `$XDG_RUNTIME_DIR/karst/karstd.sock`, else `./.karst/run/karstd.sock`.
    public static func defaultSocketPath(environment: [String: String]) -> String {
        if let dir = environment["RUNTIME_DIRECTORY"], !dir.isEmpty {
            return dir.split(separator: ":").first.map { "\($0)/karstd.sock" } ?? "\(dir)/karstd.sock"
        }
        if let dir = environment["XDG_RUNTIME_DIR"], !dir.isEmpty { return "\(dir)/karst/karstd.sock" }
        return ".karst/run/karstd.sock"
    }

    /// The default state directory: `$STATE_DIRECTORY` under systemd, else `./.karst/state`.
    public static func defaultStateDirectory(environment: [String: String]) -> String {
        if let dir = environment["STATE_DIRECTORY"], !dir.isEmpty {
            return String(dir.split(separator: ":").first ?? Substring(dir))
        }
        return ".karst/state"
    }

    /// Opens the store and rebuilds the scheduling state from it, exactly as acknowledged:
    /// pending jobs keep their submit times, running jobs their starts (their modelled ends are
    /// re-armed from them).
    public static func recover(_ configuration: KarstConfiguration, directory: String, logger: Logger) throws
        -> (KarstStore, SchedulerState, Int)
    {
        let store = try KarstStore(directory: directory)
        let (state, generation) = try restore(configuration, from: store, named: store.path, logger: logger)
        return (store, state, generation)
    }

    /// Loads `store` and rebuilds the scheduling state from it, saying how many jobs in how long
    /// and which could not be put back as they were.
    static func restore(_ configuration: KarstConfiguration, from store: any StateStore, named: String,
                        logger: Logger) throws -> (SchedulerState, Int) {
        let started = ScaledWallClock.monotonicSeconds()
        let stored = try store.load()
        let (state, report) = try SchedulerState.restore(
            topology: configuration.topology, records: stored.records, nextJobNumber: stored.nextJobNumber,
            datacenterStates: stored.datacenterStates)
        let ms = Int((ScaledWallClock.monotonicSeconds() - started) * 1000)
        logger.notice("recovered \(stored.records.count) jobs (\(state.pendingCount) pending, \(state.runningTotal) running) from \(named) in \(ms) ms")
        for id in report.heldUnschedulable {
            logger.warning("\(id) held: no data centre in this configuration can hold it", metadata: ["job_id": "\(id)"])
        }
        for id in report.runningOutsidePools {
            logger.notice("\(id) runs on outside the configured pools until it ends", metadata: ["job_id": "\(id)"])
        }
        return (state, stored.generation)
    }

    public static func run(_ options: DaemonOptions, logger: Logger,
                           hooks: DaemonHooks = DaemonHooks()) async throws {
        let configuration = try options.configPath.map { try KarstConfiguration.load(path: $0) }
            ?? KarstConfiguration.builtIn()
        let registry = PrometheusCollectorRegistry()
        var store: (any StateStore)? = nil
        var recovered: SchedulerState? = nil
        var generation = 1
        var leaseKeeper: LeaseKeeper? = nil
        // Event loops first: a standby answers on the control socket while it waits to lead.
        let group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, System.coreCount - 1))
        if options.stateDirectory != nil, configuration.state.backend == .postgres {
            guard let open = options.replicatedStore else {
                throw ConfigError(source: options.configPath ?? "built-in", issues: [
                    ConfigIssue(path: "state.backend", message: "\"postgres\" is not available in this program")])
            }
            let standby = StandbyServer(target: options.listen, settings: configuration.server,
                                        socketGroup: configuration.access.socketGroup.flatMap(groupID(named:)), logger: logger)
            do {
                let (pg, state, g) = try await Leadership.lead(configuration, open: open, logger: logger, standby: (standby, group),
                                                               status: hooks.standby ?? hooks.status, alive: hooks.waiting)
                (store, recovered, generation) = (pg, state, g)
                leaseKeeper = LeaseKeeper(store: pg, logger: logger)
            } catch {
                await standby.stop()
                try? await group.shutdownGracefully()
                throw error
            }
        } else if let dir = options.stateDirectory {
            (store, recovered, generation) = try recover(configuration, directory: dir, logger: logger)
        } else {
            logger.warning("running without a state directory (--ephemeral): nothing survives a restart")
        }
        let core = EngineCore(configuration: configuration, configPath: options.configPath,
                              clock: ScaledWallClock(timeScale: options.timeScale), logger: logger, registry: registry,
                              store: store, state: recovered, generation: generation)
        core.onStatus = hooks.status
        core.onReload = hooks.reloaded
        core.onReloadStart = hooks.reloading
        let background = BackgroundWork()
        core.background = background
        let engine = Engine(core: core)
        let access = AccessPolicy(configuration.access)
        for name in access.unknownGroups {
            logger.warning("[access] names group \(name), which does not exist on this system; it grants nothing")
        }
        let server = ControlServer(target: options.listen, settings: configuration.server, access: access,
                                   engine: engine, logger: logger, group: group,
                                   metrics: ConnectionMetrics(registry: registry, listener: "control"), onReady: hooks.ready)
        // Shut down in reverse: stop taking reloads and calls, finish background work (a reload
        // or backup in flight answers), then stop the engine.
        var services: [any Service] = [EngineService(engine: engine), background, server,
                                       ReloadSignalService(engine: engine, background: background, logger: logger)]
        if let leaseKeeper { services.insert(leaseKeeper, at: 1) }
        let agents = configuration.agents
        if agents.listen != nil {
            // Bound now, before any service runs: an address in use stops the start with its reason.
            let tls = ControlServer(target: .tls(host: agents.host, port: agents.port, context: try AgentTLSContext.make(agents)),
                                    settings: configuration.server, access: access, engine: engine, logger: logger, group: group,
                                    metrics: ConnectionMetrics(registry: registry, listener: "agents"))
            do { try await tls.bindNow() } catch {
                try? await group.shutdownGracefully()
                throw AgentTLSContext.Failure(description: "[agents] listen = \"\(agents.listen!)\": cannot listen there: \(error)")
            }
            services.insert(tls, at: 2)
        }
        if let m = options.metricsListen {
            services.append(MetricsHTTPServer(target: m, registry: registry, group: group, logger: logger))
        }
        services += hooks.extraServices(engine)
        if let stopping = hooks.stopping {
            // Last in the group, so the first to hear of a graceful shutdown.
            services.append(ShutdownAnnouncer(announce: stopping))
        }
        let t = configuration.topology
        let pools = t.datacenters.reduce(0) { $0 + $1.pools.count }
        logger.notice("karstd \(KarstVersion.current) starting: \(t.datacenters.count) data centres, \(pools) pools, configuration \(options.configPath ?? "built-in"), time scale \(options.timeScale)")
        let serviceGroup = ServiceGroup(configuration: .init(
            // A service that ends or fails (a listener that cannot bind) shuts the others down
            // gracefully, and the group's run then throws its error: the daemon exits saying why
            // rather than serving on without it (or hanging on a listener that only closes on
            // a graceful shutdown).
            services: services.map {
                ServiceGroupConfiguration.ServiceConfiguration(service: $0, successTerminationBehavior: .gracefullyShutdownGroup,
                                                               failureTerminationBehavior: .gracefullyShutdownGroup)
            },
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await serviceGroup.run()
        try await group.shutdownGracefully()
        logger.notice("karstd stopped")
    }
}

/// Callbacks for the daemon's life, so systemd integration (or a test) can follow it.
public struct DaemonHooks: Sendable {
    /// The socket is served.
    public var ready: (@Sendable (String) -> Void)?
    /// A one-line status after every engine batch.
    public var status: (@Sendable (String) -> Void)?
    /// A replica waits as a standby (its socket answering `NotLeader`): its status line, each
    /// time it changes. Under systemd, READY=1 with it: a standby is a service that started.
    public var standby: (@Sendable (String) -> Void)?
    /// A standby is waiting (called at least every second between checks of the lease, and
    /// every tenth of a second while a takeover loads the state): alive (WATCHDOG=1).
    public var waiting: (@Sendable () -> Void)?
    /// A reload is starting.
    public var reloading: (@Sendable () -> Void)?
    /// A reload finished: the new generation, or why not.
    public var reloaded: (@Sendable (Result<Int, ConfigError>) -> Void)?
    /// Shutdown has begun (SIGTERM/SIGINT): announced before anything stops.
    public var stopping: (@Sendable () -> Void)?
    /// More services to run beside the daemon's own (e.g. a watchdog), given the engine.
    public var extraServices: @Sendable (Engine) -> [any Service] = { _ in [] }

    public init() {}
}

/// Calls `announce` as soon as graceful shutdown begins.
struct ShutdownAnnouncer: Service {
    let announce: @Sendable () -> Void

    func run() async throws {
        try? await gracefulShutdown()
        announce()
    }
}
