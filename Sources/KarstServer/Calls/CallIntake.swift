import KarstCore
import KarstProtocol
import KarstWire

/// What happens to one framed call: the whole decision a connection makes before the engine,
/// in one function that the socket, the direct test depth and the fuzz targets all go through.
///
/// The call is parsed once, its parameters read by the wire types generated from the IDL, mapped
/// to the core's types and checked against their bounds; calls that need no state are answered
/// here. Runs on the connection's event loop, never on the engine thread.
public enum CallIntake {
    /// The outcome for one frame.
    public enum Decision: Sendable {
        /// Answer now, without the engine. `close`: the stream cannot be trusted any more (the
        /// frame was not a Varlink message): close once this reply is written.
        case reply([UInt8], close: Bool)
        /// A oneway call answered here: nothing to send.
        case noReply
        /// For the engine.
        case engine(EngineCall)
    }

    /// A decoded call on its way to the engine, with its Varlink flags.
    public struct EngineCall: Sendable {
        public var command: Command
        /// The caller wants no reply.
        public var oneway: Bool
    }

    /// Decides what to do with one frame (its JSON, without the NUL).
    public static func decide(frame: UnsafeBufferPointer<UInt8>, version: String) -> Decision {
        let call: VarlinkCall
        do { call = try VarlinkCall(frame: frame) } catch {
            // An unreadable message leaves the stream untrustworthy; a readable call with bad
            // parameters does not.
            return .reply(VarlinkReply.frame(error: error), close: error.name == ProtocolInterface.InvalidMessage.name)
        }
        return decide(call, version: version)
    }

    /// Decides what to do with one parsed call.
    public static func decide(_ call: VarlinkCall, version: String) -> Decision {
        do throws(VarlinkError) {
            if call.upgrade { throw .invalidParameter("upgrade") }
            let method = call.method
            let dot = method.lastIndex(of: ".") ?? method.startIndex
            let interface = method[..<dot]
            let member = dot == method.endIndex ? Substring() : method[method.index(after: dot)...]
            let command: Command
            switch interface {
            case "io.karst.Scheduler":
                guard let c = try SchedulerInterface.Call(member: member, parameters: call.parameters) else {
                    throw .methodNotFound(method)
                }
                command = try scheduler(c, more: call.more)
            case "io.karst.Admin":
                guard let c = try AdminInterface.Call(member: member, parameters: call.parameters) else {
                    throw .methodNotFound(method)
                }
                command = try admin(c)
            case "io.karst.Agent":
                guard let c = try AgentInterface.Call(member: member, parameters: call.parameters) else {
                    throw .methodNotFound(method)
                }
                command = try agent(c, more: call.more)
            case "io.karst.Protocol", "org.varlink.service":
                let frame = try local(interface: interface, member: member, call.parameters, version: version)
                return call.oneway ? .noReply : .reply(frame, close: false)
            default:
                throw .interfaceNotFound(String(interface))
            }
            return .engine(EngineCall(command: command, oneway: call.oneway))
        } catch {
            return call.oneway ? .noReply : .reply(VarlinkReply.frame(error: error), close: false)
        }
    }

    // MARK: - Answered here

    /// The vendor, product and URL `GetInfo` reports.
    public static let vendor = "Karst"
    public static let product = "karstd"
    public static let url = "https://karst.invalid/"

    private static func local(interface: Substring, member: Substring, _ parameters: JSONObject,
                              version: String) throws(VarlinkError) -> [UInt8] {
        if interface == "io.karst.Protocol" {
            guard let call = try ProtocolInterface.Call(member: member, parameters: parameters) else {
                throw .methodNotFound("\(interface).\(member)")
            }
            switch call {
            case .ping(let p): return reply(ProtocolInterface.Ping.Reply(text: p.text ?? "pong"))
            }
        }
        guard let call = try ServiceInterface.Call(member: member, parameters: parameters) else {
            throw .methodNotFound("\(interface).\(member)")
        }
        switch call {
        case .getInfo:
            return reply(ServiceInterface.GetInfo.Reply(vendor: vendor, product: product, version: version, url: url,
                                                        interfaces: EmbeddedInterfaces.names))
        case .getInterfaceDescription(let p):
            guard let text = EmbeddedInterfaces.descriptions[p.interface] else { throw .interfaceNotFound(p.interface) }
            return reply(ServiceInterface.GetInterfaceDescription.Reply(description: text))
        }
    }

    /// `List`'s and `ListSummaries`' parameters, checked against their bounds.
    private static func listQuery(state stateName: String?, tenant: String?, datacenter: String?, limit: Int?,
                                  after cursor: String?, summaries: Bool) throws(VarlinkError) -> Command.ListQuery {
        try CallBounds.checkName(stateName, "state")
        try CallBounds.checkName(tenant, "tenant")
        try CallBounds.checkName(datacenter, "datacenter")
        var state: JobState? = nil
        if let name = stateName {
            guard let s = JobState(rawValue: name) else { throw .invalidParameter("state") }
            state = s
        }
        let limit = limit ?? CallBounds.defaultListLimit
        guard CallBounds.listLimit.contains(limit) else {
            throw .outOfRange("limit", "must be between \(CallBounds.listLimit.lowerBound) and \(CallBounds.listLimit.upperBound), not \(limit)")
        }
        var after: JobID? = nil
        if let cursor {
            guard let id = JobID(cursor) else {
                throw .outOfRange("after", "must be a job id (job-N), the last of the previous page, not \(cursor.prefix(64))")
            }
            after = id
        }
        return Command.ListQuery(state: state, tenant: tenant, datacenter: datacenter, after: after, limit: limit,
                                 summaries: summaries)
    }

    private static func reply(_ parameters: some WireStruct) -> [UInt8] {
        VarlinkReply.frame(parameters: parameters)
    }

    // MARK: - Decoded for the engine

    private static func scheduler(_ call: SchedulerInterface.Call, more: Bool) throws(VarlinkError) -> Command {
        switch call {
        case .submit(let p):
            return .submit(try WireMapping.spec(p.job, path: "job"), dryRun: p.dryRun ?? false)
        case .submitBatch(let p):
            try CallBounds.check(p.jobs.count, atMost: CallBounds.maxBatchJobs, "jobs", "jobs in one batch")
            var specs: [JobSpec] = []
            specs.reserveCapacity(p.jobs.count)
            for (i, w) in p.jobs.enumerated() { specs.append(try WireMapping.spec(w, path: "jobs[\(i)]")) }
            return .submitBatch(specs, brief: p.brief ?? false)
        case .get(let p): return .get(try jobID(p.id))
        case .list(let p):
            return .list(try listQuery(state: p.state, tenant: p.tenant, datacenter: p.datacenter, limit: p.limit,
                                       after: p.after, summaries: false))
        case .listSummaries(let p):
            return .list(try listQuery(state: p.state, tenant: p.tenant, datacenter: p.datacenter, limit: p.limit,
                                       after: p.after, summaries: true))
        case .cancel(let p): return .cancel(try jobID(p.id))
        case .hold(let p): return .hold(try jobID(p.id))
        case .release(let p): return .release(try jobID(p.id))
        case .complete(let p):
            let id = try jobID(p.id)
            guard p.outcome == "succeeded" || p.outcome == "failed" else {
                throw .outOfRange("outcome", "must be \"succeeded\" or \"failed\"")
            }
            try CallBounds.checkText(p.message, atMost: CallBounds.maxCompleteMessageBytes, "message")
            return .complete(id, succeeded: p.outcome == "succeeded", message: p.message)
        case .watch(let p):
            try CallBounds.checkName(p.tenant, "tenant")
            guard more else { throw .expectedMore }
            var ids: Set<JobID>? = nil
            if let texts = p.ids {
                try CallBounds.check(texts.count, atMost: CallBounds.maxWatchIDs, "ids", "entries")
                var set = Set<JobID>()
                for (i, t) in texts.enumerated() {
                    guard let id = JobID(t) else { throw .invalidParameter("ids[\(i)]") }
                    set.insert(id)
                }
                ids = set
            }
            return .watch(Command.WatchFilter(ids: ids, tenant: p.tenant))
        }
    }

    private static func admin(_ call: AdminInterface.Call) throws(VarlinkError) -> Command {
        switch call {
        case .topology: return .topology
        case .drain(let p): return .drain(datacenter: try datacenter(p.datacenter), stopRuns: p.stopRuns ?? false)
        case .resume(let p): return .resume(datacenter: try datacenter(p.datacenter))
        case .setOffline(let p): return .setOffline(datacenter: try datacenter(p.datacenter))
        case .stats: return .stats
        case .reload: return .reload
        case .metrics: return .metrics
        case .agents: return .agents
        case .backup(let p): return .backup(path: try CallBounds.checkBackupPath(p.path))
        }
    }

    private static func agent(_ call: AgentInterface.Call, more: Bool) throws(VarlinkError) -> Command {
        func session(_ n: Int) throws(VarlinkError) -> UInt64 {
            guard n >= 0 else { throw .outOfRange("session", "must be at least 0, not \(n)") }
            return UInt64(n)
        }
        func epoch(_ n: Int?) throws(VarlinkError) -> UInt64? {
            guard let n else { return nil }
            guard n >= 0 else { throw .outOfRange("epoch", "must be at least 0, not \(n)") }
            return UInt64(n)
        }
        func run(_ job: String, _ attempt: Int) throws(VarlinkError) -> RunID {
            guard attempt >= 1 else { throw .outOfRange("attempt", "must be at least 1, not \(attempt)") }
            return RunID(job: try jobID(job), attempt: attempt)
        }
        switch call {
        case .connect(let p):
            try CallBounds.checkName(p.agent, "agent")
            try CallBounds.checkName(p.datacenter, "datacenter")
            try CallBounds.checkName(p.backend, "backend")
            try CallBounds.checkName(p.host, "host")
            guard !p.agent.isEmpty else { throw .outOfRange("agent", "must not be empty") }
            guard more else { throw .expectedMore }
            return .agentConnect(agent: p.agent, datacenter: p.datacenter, backend: p.backend, host: p.host, epoch: try epoch(p.epoch))
        case .heartbeat(let p):
            try CallBounds.checkName(p.agent, "agent")
            return .agentHeartbeat(agent: p.agent, session: try session(p.session), epoch: try epoch(p.epoch))
        case .started(let p):
            try CallBounds.checkName(p.agent, "agent")
            try CallBounds.checkName(p.siteID, "siteID")
            try CallBounds.checkText(p.output, atMost: CallBounds.maxPathBytes, "output")
            try CallBounds.checkText(p.limits, atMost: CallBounds.maxCompleteMessageBytes, "limits")
            return .agentStarted(session: try session(p.session), run: try run(p.job, p.attempt),
                                 place: RunPlace(agent: p.agent, attempt: p.attempt, siteID: p.siteID, output: p.output,
                                                 limits: p.limits), epoch: try epoch(p.epoch))
        case .ended(let p):
            try CallBounds.checkName(p.agent, "agent")
            try CallBounds.checkText(p.message, atMost: CallBounds.maxCompleteMessageBytes, "message")
            return .agentEnded(agent: p.agent, session: try session(p.session), run: try run(p.job, p.attempt),
                               outcome: AgentBook.RunOutcome(succeeded: p.succeeded, exitStatus: p.exitStatus, message: p.message,
                                                             fenced: p.fenced ?? false), epoch: try epoch(p.epoch))
        }
    }

    /// A job id; one that cannot name a job is `NoSuchJob`, as an unknown one is.
    private static func jobID(_ text: String) throws(VarlinkError) -> JobID {
        try CallBounds.checkName(text, "id")
        guard let id = JobID(text) else { throw SchedulerInterface.NoSuchJob(id: text).varlinkError }
        return id
    }

    private static func datacenter(_ name: String) throws(VarlinkError) -> String {
        try CallBounds.checkName(name, "datacenter")
        return name
    }
}
