import ArgumentParser
import Foundation
import KarstAgent
import KarstConfig
import KarstSystemd
import Logging

/// `karst-agent`: a site agent for a data centre whose executor is `agents` (docs/AGENTS.md).
@main
struct KarstAgentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "karst-agent",
        abstract: "Run what Karst places in one data centre (a site agent).",
        subcommands: [Serve.self, FenceKeeperCommand.self],
        defaultSubcommand: Serve.self)
}

/// The agent itself (the default subcommand).
struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Connect to karstd and run what it leases to this agent (the default).",
        discussion: """
            Connects to karstd's socket with the executor role (or, from another host, to its
            [agents] listen address with mutual TLS: --connect, --ca, --cert, --key), runs each
            job's command with its backend and reports its start and end:
              process  a process group (output in RUN-DIR/JOB.ATTEMPT/output) held to the job's cores
                       and memory (cgroup v2 where delegated to the agent, else an rlimit on memory)
              slurm    a Slurm batch job named karst-JOB-ATTEMPT, in the partition of its pool
              systemd  a transient unit karst-JOB-ATTEMPT.service (CPUQuota, MemoryMax, TasksMax,
                       RuntimeMaxSec), its output in the journal
            A fence keeper process kills the runs if the agent loses the daemon for the fence
            timeout, even when the agent itself is gone.
            With replicas (the PostgreSQL store), give every replica's socket (--socket, repeated)
            or address (--connect, repeated): the agent follows the leader, and refuses a replica
            whose leader epoch is older than one it was leased under.
            Example: karst-agent --socket /run/karst/karstd.sock --datacenter gcbd-icloud
                     karst-agent --connect karst.example:7443 --ca ca.pem --cert gcbd-icloud.pem \\
                                 --key gcbd-icloud.key --datacenter gcbd-icloud --backend systemd
            """)

    @Option(help: ArgumentHelp("karstd's control socket; repeated, each replica's (default: $KARST_SOCKET, else /run/karst/karstd.sock).",
                               valueName: "path"))
    var socket: [String] = []
    @Option(help: "The data centre this agent serves (its executor must be \"agents\").") var datacenter: String
    @Option(help: "The agent's name, unique in the hub (default: the host name).") var name: String?
    @Option(help: ArgumentHelp("karstd's address for a remote agent, over mutual TLS (with --ca, --cert, --key); repeated, each replica's.",
                               valueName: "host:port"))
    var connect: [String] = []
    @Option(help: ArgumentHelp("--connect: the CA that signed karstd's certificate (PEM).", valueName: "file")) var ca: String?
    @Option(help: ArgumentHelp("--connect: this agent's certificate (PEM); its subject CN is the data centre.", valueName: "file"))
    var cert: String?
    @Option(help: ArgumentHelp("--connect: this agent's private key (PEM).", valueName: "file")) var key: String?
    @Option(help: "Backend: process (each run a child process group), slurm (a Slurm job) or systemd (a transient unit).")
    var backend = "process"
    @Option(help: "Where the agent keeps what it started.") var stateDir = ProcessInfo.processInfo.environment["STATE_DIRECTORY"] ?? ".karst/agent"
    @Option(help: "Where runs' directories (output, exit status) go (default: STATE-DIR/runs).") var runDir: String?
    @Flag(help: "Do not use cgroups even where they are delegated (rlimits only).") var noCgroups = false
    @Option(help: ArgumentHelp("slurm: the partition a pool's runs go to, as POOL=PARTITION (repeatable).", valueName: "pool=partition"))
    var partition: [String] = []
    @Option(help: "slurm: the partition of runs whose pool has no --partition (default: the cluster's default).")
    var defaultPartition: String?
    @Option(help: "systemd: the slice of the runs' units.") var slice = "karst.slice"
    @Option(help: "systemd: the user the runs' units run as (User=; default: the manager's, root for the system one).")
    var runAs: String?
    @Option(help: "systemd: RuntimeMaxSec is the job's expected duration × this, plus 60 s.") var runtimeMargin = 1.5
    @Option(help: "systemd: TasksMax of each run's unit.") var tasksMax = 4096
    @Flag(help: "systemd: use the calling user's manager (systemctl --user), not the system's.") var userManager = false
    @Option(help: "Where logs go: auto (the journal when stderr is connected to it), journal, stderr.")
    var logTarget = "auto"

    func run() throws {
        // SIGTERM and SIGINT stop the agent (its runs go on, its fence keeper with them), even
        // when whoever started it had them blocked or ignored: both are inherited across exec.
        var signals = sigset_t()
        sigemptyset(&signals)
        sigaddset(&signals, SIGTERM)
        sigaddset(&signals, SIGINT)
        sigprocmask(SIG_UNBLOCK, &signals, nil)
        signal(SIGTERM, SIG_DFL)
        signal(SIGINT, SIG_DFL)
        guard ["process", "slurm", "systemd"].contains(backend) else {
            throw ValidationError("--backend: process, slurm or systemd, not \(backend)")
        }
        guard runtimeMargin.isFinite, runtimeMargin >= 1, runtimeMargin <= 100 else {
            throw ValidationError("--runtime-margin: from 1 to 100, not \(runtimeMargin)")
        }
        guard (1...10_000_000).contains(tasksMax) else { throw ValidationError("--tasks-max: from 1 to 10,000,000, not \(tasksMax)") }
        var daemons = socket.map { DaemonAddress.socket($0) }
        if !connect.isEmpty {
            guard let ca, let cert, let key else { throw ValidationError("--connect needs --ca, --cert and --key (mutual TLS)") }
            for address in connect {
                guard let (host, port) = HostPort.parse(address) else {
                    throw ValidationError("--connect: HOST:PORT with a port from 1 to 65535 (\"[::1]:7443\" for IPv6), not \(address)")
                }
                do { daemons.append(.remote(try RemoteDaemon(host: host, port: port, ca: ca, certificate: cert, key: key))) } catch {
                    throw ValidationError("\(error)")
                }
            }
        } else if ca != nil || cert != nil || key != nil {
            throw ValidationError("--ca, --cert and --key go with --connect")
        }
        if daemons.isEmpty {
            daemons = [.socket(ProcessInfo.processInfo.environment["KARST_SOCKET"] ?? "/run/karst/karstd.sock")]
        }
        guard daemons.count <= 16 else { throw ValidationError("at most 16 daemons (--socket and --connect), not \(daemons.count)") }
        var partitions: [String: String] = [:]
        for p in partition {
            let parts = p.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw ValidationError("--partition: POOL=PARTITION, not \(p)")
            }
            partitions[parts[0]] = parts[1]
        }
        guard JournaldLogHandler.targets.contains(logTarget) else {
            throw ValidationError("--log-target: auto, journal or stderr, not \(logTarget)")
        }
        JournaldLogHandler.bootstrap(identifier: "karst-agent", target: logTarget, level: .info)
        let host = ProcessInfo.processInfo.hostName
        let logger = Logger(label: "karst-agent")
        let runs = runDir ?? stateDir + "/runs"
        let chosen: any RunBackend
        switch backend {
        case "slurm": chosen = try SlurmBackend(runDirectory: runs, partitions: partitions, defaultPartition: defaultPartition)
        case "systemd":
            try FileManager.default.createDirectory(atPath: stateDir, withIntermediateDirectories: true)
            chosen = try SystemdBackend(stateDirectory: stateDir, datacenter: datacenter, slice: slice, user: runAs,
                                        runtimeMargin: runtimeMargin, tasksMax: UInt64(tasksMax), userManager: userManager)
        default: chosen = try ProcessBackend(runDirectory: runs, limits: RunLimits.detect(cgroups: !noCgroups))
        }
        let agent = try SiteAgent(
            options: .init(daemons: daemons, name: name ?? host, datacenter: datacenter, host: host, stateDirectory: stateDir),
            backend: chosen, logger: logger)
        if SystemdNotifier.isEnabled {
            let notifier = SystemdNotifier()
            agent.hooks(ready: { notifier.ready(status: "connected") }, loop: { notifier.watchdog() })
        }
        agent.run()
    }
}

/// The fence keeper an agent starts (see `FenceKeeper`); not meant to be run by hand.
struct FenceKeeperCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fence-keeper",
        abstract: "Kill an agent's runs once it lost the daemon for the fence timeout (started by the agent).",
        shouldDisplay: false)

    @Option var stateDir: String
    @Option var runDir: String?
    @Option var cgroup: String?
    @Flag var systemd = false
    @Flag var userManager = false

    func run() throws {
        FenceKeeper.run(stateDirectory: stateDir, runDirectory: runDir, cgroup: cgroup, systemd: systemd, userManager: userManager)
    }
}
