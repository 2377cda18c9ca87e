import ArgumentParser
import Foundation
import KarstAgent
import KarstSystemd
import Logging

/// `karst-agent`: a site agent for a data centre whose executor is `agents` (docs/AGENTS.md).
@main
struct KarstAgentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "karst-agent",
        abstract: "Run what Karst places in one data centre (a site agent).",
        discussion: """
            Connects to karstd's socket with the executor role, runs each job's command as a process
            group (output in RUN-DIR/JOB.ATTEMPT/output), and reports its start and end.
            Example: karst-agent --socket /run/karst/karstd.sock --datacenter gcbd-icloud
            """)

    @Option(help: "karstd's control socket.") var socket = ProcessInfo.processInfo.environment["KARST_SOCKET"] ?? "/run/karst/karstd.sock"
    @Option(help: "The data centre this agent serves (its executor must be \"agents\").") var datacenter: String
    @Option(help: "The agent's name, unique in the hub (default: the host name).") var name: String?
    @Option(help: "Backend: process (each run a child process group).") var backend = "process"
    @Option(help: "Where the agent keeps what it started.") var stateDir = ProcessInfo.processInfo.environment["STATE_DIRECTORY"] ?? ".karst/agent"
    @Option(help: "Where runs' directories (output, exit status) go (default: STATE-DIR/runs).") var runDir: String?

    func run() throws {
        guard backend == "process" else { throw ValidationError("--backend: only \"process\" is available") }
        let host = ProcessInfo.processInfo.hostName
        var logger = Logger(label: "karst-agent")
        logger.logLevel = .info
        let agent = try SiteAgent(
            options: .init(socket: socket, name: name ?? host, datacenter: datacenter, host: host, stateDirectory: stateDir),
            backend: try ProcessBackend(runDirectory: runDir ?? stateDir + "/runs"), logger: logger)
        if SystemdNotifier.isEnabled {
            let notifier = SystemdNotifier()
            agent.hooks(ready: { notifier.ready(status: "connected") }, loop: { notifier.watchdog() })
        }
        agent.run()
    }
}
