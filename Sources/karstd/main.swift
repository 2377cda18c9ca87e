import ArgumentParser
import KarstConfig
import KarstCore
import KarstPostgres
import KarstServer
import KarstStore
import KarstSystemd
import Logging
import ServiceLifecycle
import UnixSignals

#if canImport(Glibc)
import Glibc
#endif

/// `karstd`: the Karst scheduler daemon.
@main
struct Karstd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "karstd",
        abstract: "The Karst compute-capacity scheduler daemon for the Guizhou computing hub.",
        discussion: """
            Serves the Varlink control protocol (io.karst.Scheduler, io.karst.Admin) on a Unix socket.
            Without --config the built-in Guizhou topology is used. SIGTERM or SIGINT stops the daemon
            after answering every call already read; SIGHUP reloads the configuration.
            """,
        version: KarstVersion.current)

    @Option(help: ArgumentHelp("Configuration file (TOML). Default: the built-in Guizhou hub.", valueName: "FILE"))
    var config: String?

    @Option(help: ArgumentHelp("""
        Control socket path. Default: $RUNTIME_DIRECTORY/karstd.sock, else \
        $XDG_RUNTIME_DIR/karst/karstd.sock, else ./.karst/run/karstd.sock.
        """, valueName: "PATH"))
    var socket: String?

    @Option(help: ArgumentHelp("State directory (SQLite). Default: $STATE_DIRECTORY, else ./.karst/state.",
                               valueName: "DIR"))
    var stateDir: String?

    @Flag(help: "Keep all state in memory: nothing survives a restart (benchmarks, experiments).")
    var ephemeral = false

    @Flag(help: "Check the state directory's integrity, recover it under --config and check the scheduler's invariants, print a summary and exit (status 0 or 1).")
    var checkState = false

    @Option(help: "Run the model N times faster than wall time (modelled job durations shrink accordingly).")
    var timeScale: Double = 1

    @Option(help: ArgumentHelp("Also serve Prometheus metrics over HTTP on this loopback address.", valueName: "HOST:PORT"))
    var metricsListen: String?

    @Option(help: ArgumentHelp("Least severe log level: trace, debug, info, notice, warning, error, critical."))
    var logLevel: String = "info"

    @Option(help: ArgumentHelp("Where logs go: auto (journald when stderr is the journal), journal, stderr."))
    var logTarget: String = "auto"

    @Flag(help: .hidden)
    var testHooks = false

    @Option(name: .customLong("check-config"), help: ArgumentHelp(
        "Validate a configuration file, print OK or every error, and exit (status 0 or 1).", valueName: "FILE"))
    var checkConfig: String?

    func validate() throws {
        guard (0.001...1_000_000).contains(timeScale) else {
            throw ValidationError("--time-scale must be between 0.001 and 1000000, not \(timeScale)")
        }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("--log-level: unknown level \(logLevel)") }
        guard JournaldLogHandler.targets.contains(logTarget) else { throw ValidationError("--log-target: auto, journal or stderr") }
        if ephemeral && stateDir != nil { throw ValidationError("--ephemeral and --state-dir exclude each other") }
        if let m = metricsListen, HostPort.parse(m) == nil {
            throw ValidationError("--metrics-listen must be HOST:PORT, e.g. 127.0.0.1:9464")
        }
    }

    func run() async throws {
        if let path = checkConfig {
            do {
                let config = try KarstConfiguration.load(path: path)
                let t = config.topology
                let pools = t.datacenters.reduce(0) { $0 + $1.pools.count }
                // The remote agents' certificates are files the daemon reads at start: check them too.
                var agents = ""
                if let listen = config.agents.listen {
                    do { _ = try AgentTLSContext.make(config.agents) } catch {
                        printError("\(path): \(error)")
                        throw ExitCode(1)
                    }
                    agents = "; remote agents on \(listen) (mutual TLS)"
                }
                print("OK: \(path): \(t.datacenters.count) data centres, \(pools) pools, "
                    + "\(t.regions.count) regions, \(t.classes.count) classes, \(t.tenants.count) tenants" + agents)
                return
            } catch let error as ConfigError {
                printError(error.description)
                throw ExitCode(1)
            }
        }
        if checkState {
            let dir = stateDir ?? KarstDaemon.defaultStateDirectory(environment: environment())
            let summary: StoreSummary
            do {
                summary = try KarstStore(directory: dir).summary()
            } catch {
                printError("karstd: \(error)")
                throw ExitCode(1)
            }
            print(summary)
            if !summary.isHealthy { throw ExitCode(1) }
            try checkRecoveredState(dir)
            return
        }
        let level = Logger.Level(rawValue: logLevel)!
        JournaldLogHandler.bootstrap(identifier: "karstd", target: logTarget, level: level)
        let logger = Logger(label: "karstd")
        let env = environment()
        // Socket activation: systemd passes the listening socket named "control" (by name —
        // the order of passed descriptors is not stable).
        let activated = SocketActivation.listeningSockets()
        let listen: ListenTarget
        if let fd = activated["control"] {
            listen = .activated(fd: fd, name: "control")
        } else {
            if !activated.isEmpty && activated.keys.contains(where: { $0 != "metrics" }) {
                logger.warning("passed sockets \(activated.keys.sorted()) include none named control")
            }
            listen = .path(socket ?? KarstDaemon.defaultSocketPath(environment: env))
        }
        var options = DaemonOptions(configPath: config, listen: listen)
        options.timeScale = timeScale
        if let fd = activated["metrics"] {
            options.metricsListen = .activated(fd: fd)
        } else if let m = metricsListen.flatMap(HostPort.parse) {
            options.metricsListen = .address(host: m.host, port: m.port)
        }
        options.stateDirectory = ephemeral ? nil : (stateDir ?? KarstDaemon.defaultStateDirectory(environment: env))
        options.replicatedStore = { settings, logger in
            try PostgresStore(settings: settings, password: try PostgresStore.password(for: settings),
                              replica: Leadership.replicaName(settings), logger: logger, monotonic: ScaledWallClock.monotonicSeconds)
        }
        let notifier = SystemdNotifier()
        var hooks = DaemonHooks()
        if SystemdNotifier.isEnabled {
            hooks.ready = { target in notifier.ready(status: "serving on \(target)") }
            hooks.status = { line in notifier.status(line) }
            // A standby has started (its socket answers NotLeader) and is alive while it waits:
            // without READY=1 `systemctl start` would wait for it to lead, and time out.
            hooks.standby = { line in notifier.ready(status: line) }
            hooks.waiting = { notifier.watchdog() }
            hooks.reloading = { notifier.reloading() }
            hooks.reloaded = { result in
                switch result {
                case .success(let g): notifier.ready(status: "configuration generation \(g) in force")
                case .failure(let e):
                    notifier.ready(status: "reload FAILED, previous configuration still in force: "
                        + (e.issues.first?.description ?? "invalid configuration"))
                }
            }
            hooks.stopping = { notifier.stopping() }
            if let interval = WatchdogService.interval {
                hooks.extraServices = { engine in
                    [WatchdogService(interval: interval, notifier: notifier, logger: logger) { window in
                        ScaledWallClock.monotonicSeconds() - engine.lastProgress < Double(window.components.seconds)
                            + Double(window.components.attoseconds) / 1e18
                    }]
                }
            }
        }
        if testHooks {
            // For the end-to-end tests only: SIGUSR2 wedges the engine thread, so the watchdog
            // can be seen to kill and systemd to restart a daemon that stopped making progress.
            let previous = hooks.extraServices
            hooks.extraServices = { engine in previous(engine) + [WedgeOnSignal(engine: engine, logger: logger)] }
        }
        do {
            try await KarstDaemon.run(options, logger: logger, hooks: hooks)
        } catch let error as ConfigError {
            logger.critical("invalid configuration: \(error)")
            throw ExitCode(1)
        } catch {
            logger.critical("karstd failed: \(error)")
            throw ExitCode(1)
        }
    }
}

func environment() -> [String: String] {
    var out: [String: String] = [:]
    var p = environ
    while let entry = p.pointee {
        let s = String(cString: entry)
        if let eq = s.firstIndex(of: "=") { out[String(s[..<eq])] = String(s[s.index(after: eq)...]) }
        p += 1
    }
    return out
}

func printError(_ text: String) {
    let bytes = Array((text + "\n").utf8)
    _ = bytes.withUnsafeBytes { Glibc.write(2, $0.baseAddress, $0.count) }
}

/// Test hook (`--test-hooks`): on SIGUSR2 the engine thread blocks forever.
struct WedgeOnSignal: Service {
    let engine: Engine
    let logger: Logger

    func run() async throws {
        for await _ in await UnixSignalsSequence(trapping: .sigusr2).cancelOnGracefulShutdown() {
            logger.critical("test hook: wedging the engine")
            engine.submit(.barrier { while true { sleep(3600) } })
        }
    }
}

extension Karstd {
    /// Recovers the state in `dir` as the daemon would (under --config, or the built-in hub) and
    /// checks the scheduler's invariants on it: capacity, queue, tenant usage, running lists.
    func checkRecoveredState(_ dir: String) throws {
        do {
            let configuration = try config.map { try KarstConfiguration.load(path: $0) } ?? KarstConfiguration.builtIn()
            let stored = try KarstStore(directory: dir).load()
            let (state, report) = try SchedulerState.restore(
                topology: configuration.topology, records: stored.records, nextJobNumber: stored.nextJobNumber,
                datacenterStates: stored.datacenterStates)
            if let broken = state.checkInvariants() {
                printError("karstd: the recovered state breaks an invariant: \(broken)")
                throw ExitCode(1)
            }
            print("recovered: \(stored.records.count) jobs, \(state.pendingCount) pending, \(state.runningTotal) running, "
                + "\(report.heldUnschedulable.count) held by the configuration; invariants hold")
        } catch let exit as ExitCode {
            throw exit
        } catch {
            printError("karstd: recovering the state: \(error)")
            throw ExitCode(1)
        }
    }
}
