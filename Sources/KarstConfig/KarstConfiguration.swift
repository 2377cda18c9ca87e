import KarstCore
import TOMLKit

/// A validated daemon configuration: the hub's topology and policy.
public struct KarstConfiguration: Sendable {
    public var topology: Topology
    public var server: ServerSettings
    public var access: AccessSettings
    public var state: StateSettings
    /// Remote site agents' TLS listener (`[agents]`); off by default.
    public var agents: AgentListenSettings

    public init(topology: Topology, server: ServerSettings = ServerSettings(), access: AccessSettings = AccessSettings(),
                state: StateSettings = StateSettings(), agents: AgentListenSettings = AgentListenSettings()) {
        self.topology = topology
        self.server = server
        self.access = access
        self.state = state
        self.agents = agents
    }

    /// Parses and validates TOML text. Throws `ConfigError` listing every issue found, each with its
    /// key path (`datacenters[2].pools[0].cpu: must be greater than 0`).
    public static func parse(_ text: String, source: String) throws(ConfigError) -> KarstConfiguration {
        let root: TOMLTable
        do {
            root = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw ConfigError(source: source, issues: [
                ConfigIssue(path: "", message: "TOML syntax error at line \(error.source.begin.line), "
                    + "column \(error.source.begin.column): \(error.description)")
            ])
        } catch {
            throw ConfigError(source: source, issues: [ConfigIssue(path: "", message: "\(error)")])
        }
        let sink = IssueSink()
        var reader = TableReader(root, path: "", sink: sink)
        let sections = TopologyReader(sink: sink)
        let topology = sections.read(&reader)
        let server = sections.readServer(&reader)
        let access = sections.readAccess(&reader)
        let state = sections.readState(&reader)
        let agents = sections.readAgents(&reader)
        reader.finish()
        if let topology, state.backend == .postgres, let problem = failoverProblem(topology, state.postgres ?? PostgresSettings()) {
            sink.add("settings.agent_fence_seconds", problem)
        }
        guard sink.issues.isEmpty, let topology else { throw ConfigError(source: source, issues: sink.issues) }
        return KarstConfiguration(topology: topology, server: server, access: access, state: state, agents: agents)
    }

    /// Why replicas with these settings would kill every agent's runs at a failover, or nil.
    /// An agent kills its runs once it has not reached a leader for the fence timeout; a
    /// takeover takes up to the lease, plus a standby's renewal interval to notice, plus the
    /// state's recovery, plus the agent's own finding of the new leader
    /// (`failoverAllowanceSeconds`). The fence must outlast them all, or the runs a failover
    /// should carry over are fenced and run again.
    static func failoverProblem(_ topology: Topology, _ p: PostgresSettings) -> String? {
        guard topology.datacenters.contains(where: { $0.executor == .agents }) else { return nil }
        let needed = p.leaseSeconds + p.renewSeconds + failoverAllowanceSeconds
        let fence = topology.settings.agentTimeouts.fence
        guard fence < needed else { return nil }
        return "with replicas ([state] backend = \"postgres\") must be at least lease_seconds + renew_seconds + "
            + "\(formatNumber(failoverAllowanceSeconds)) s (\(formatNumber(needed)) s), not \(formatNumber(fence)): "
            + "else agents kill their runs before a standby has taken over (raise agent_lost_seconds with it)"
    }

    /// What a takeover is allowed beyond the lease and a renewal (`failoverProblem`): loading
    /// the state (1,000,000 jobs: 6-7 s measured) and the agents finding the new leader (a
    /// replica that does not answer holds an agent's attempt for 1.5 s).
    public static let failoverAllowanceSeconds = 10.0

    /// The built-in Guizhou hub (`Config/karstd.toml`, compiled in).
    public static func builtIn() -> KarstConfiguration {
        do {
            return try parse(BuiltinConfig.text, source: "built-in")
        } catch {
            preconditionFailure("the built-in configuration is invalid: \(error)")
        }
    }
}
