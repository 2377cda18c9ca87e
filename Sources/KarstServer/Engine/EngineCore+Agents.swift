import KarstCore
import KarstProtocol
import KarstStore
import KarstWire

/// `io.karst.Agent`: site agents' streams. A connected agent's `Connect` call streams the runs
/// leased to it and the stops asked of them, pushed after the batch that decided them is
/// committed (so a lease is on disk before the agent hears of it).
extension EngineCore {
    /// One agent's open `Connect` stream.
    struct AgentStream {
        var agent: String
        var session: UInt64
        var send: @Sendable ([UInt8]) -> Bool
        var respond: @Sendable ([UInt8]) -> Void
    }

    /// The executor role; a remote agent (TLS) only for the data centre its certificate names:
    /// `datacenter` it claims on `Connect`, else the one the agent is known in.
    func requireExecutor(_ c: Caller, _ agent: String, datacenter: String? = nil) throws(VarlinkError) {
        guard c.canExecute else { throw denied(c, "act as site agent \(agent)") }
        guard let bound = c.datacenter else { return }
        let claimed = datacenter ?? state.agents.agent(agent)?.datacenter
        guard claimed == bound else {
            let reason = "its certificate is for data centre \(bound), not \(claimed ?? "the one of agent \(agent)")"
            logger.warning("refused \(c) acting as agent \(agent): \(reason)",
                           metadata: ["agent": "\(agent)", "datacenter": "\(bound)", "peer": "\(c.peer ?? "?")"])
            throw AgentRefusal.certificate(agent, reason)
        }
    }

    /// This replica's epoch as leader (replicas on PostgreSQL); nil for a single daemon.
    var leaderEpoch: UInt64? { (store as? any ReplicatedStore)?.currentTerm.epoch }

    /// An agent's call under leader epoch `claimed` (the largest it has seen). A replica whose
    /// term has run out by its own clock, or whose epoch is older than the agent's (it was
    /// paused or cut off while another took over), is not the leader: `NotLeader`, and the agent
    /// looks for the leader. A report under an older epoch than this leader's was meant for an
    /// earlier leader's session: refused, and the agent connects again (`connecting` is that).
    /// A single daemon has no epoch and checks nothing. Returns this leader's epoch (nil for a
    /// single daemon): the one its answer carries. Called after the caller's role is checked.
    @discardableResult
    func checkEpoch(_ claimed: UInt64?, agent: String, connecting: Bool = false) throws(VarlinkError) -> UInt64? {
        guard let replicated = store as? any ReplicatedStore else { return nil }
        let term = replicated.currentTerm
        guard let mine = term.epoch, replicated.mayWriteNow else {
            throw ProtocolInterface.NotLeader(leader: nil, address: nil, epoch: Int(max(term.epoch ?? 0, claimed ?? 0))).varlinkError
        }
        guard let claimed else { return mine }
        if claimed > mine {
            logger.warning("agent \(agent) was leased under epoch \(claimed), newer than this replica's \(mine): another replica leads",
                           metadata: ["agent": "\(agent)", "leader": "stale"])
            throw ProtocolInterface.NotLeader(leader: nil, address: nil, epoch: Int(claimed)).varlinkError
        }
        if claimed < mine, !connecting {
            throw SchedulerInterface.AgentRefused(agent: agent, reason: "reported under epoch \(claimed), an earlier leader's; "
                + "this leader's epoch is \(mine): connect again").varlinkError
        }
        return mine
    }

    func agentConnect(_ agent: String, datacenter: String, backend: String, host: String?, epoch claimed: UInt64?,
                      _ r: EngineRequest, _ now: Instant) throws(VarlinkError) -> Outcome {
        try requireExecutor(r.caller, agent, datacenter: datacenter)
        // The epoch checked is the one the reply carries (the term may end in between).
        let epoch = try checkEpoch(claimed, agent: agent, connecting: true)
        // The connection serves one stream at a time: a second one has none.
        guard let send = r.stream else { throw VarlinkError.expectedMore }
        let (session, leases) = try core { () throws(SchedulerError) in
            try state.connectAgent(agent, datacenter: datacenter, now: now)
        }
        // An older stream of the same agent is over: its session is no longer current.
        for (id, s) in agentStreams where s.agent == agent { endAgentStream(id, AgentRefusal.superseded(agent)) }
        agentStreams[r.watchID] = AgentStream(agent: agent, session: session, send: send, respond: { r.answer($0) })
        let over = r.caller.peer.map { " over TLS from \($0)" } ?? ""
        let line = "agent \(agent) of \(datacenter) connected\(over) (backend \(backend), host \(host ?? "?"), session \(session), "
            + "\(leases.count) runs)"
        logger.notice("\(line)", metadata: ["agent": "\(agent)", "datacenter": "\(datacenter)"])
        let timeouts = state.agents.timeouts
        let first = AgentInterface.Connect.Reply(
            session: Int(session), leases: withState { s in leases.compactMap { Self.wireLease($0, in: s, epoch: epoch) } },
            reportIntervalSeconds: timeouts.reportInterval, fenceSeconds: timeouts.fence, epoch: epoch.map { Int($0) })
        if !send(VarlinkReply.frame(parameters: first, continues: true)) { endAgentStream(r.watchID, nil) }
        return .streaming
    }

    func agentHeartbeat(_ agent: String, _ session: UInt64, _ epoch: UInt64?, _ c: Caller, _ now: Instant) throws(VarlinkError)
        -> Outcome
    {
        try requireExecutor(c, agent)
        try checkEpoch(epoch, agent: agent)
        try core { () throws(SchedulerError) in try state.agentReport(agent, session: session, now: now) }
        return .reply { _, _ in VarlinkReply.frame(parameters: AgentInterface.Heartbeat.Reply()) }
    }

    func agentStarted(_ place: RunPlace, _ session: UInt64, _ epoch: UInt64?, _ run: RunID, _ c: Caller,
                      _ now: Instant, _ events: inout [Event]) throws(VarlinkError) -> Outcome {
        try requireExecutor(c, place.agent)
        try checkEpoch(epoch, agent: place.agent)
        let (action, started) = try core { () throws(SchedulerError) in
            try state.agentStarted(place.agent, session: session, run: run, siteID: place.siteID, output: place.output,
                                   limits: place.limits, now: now)
        }
        if let started { events.append(started) }
        return .reply { _, _ in VarlinkReply.frame(parameters: AgentInterface.Started.Reply(action: action == .run ? "run" : "kill")) }
    }

    func agentEnded(_ agent: String, _ session: UInt64, _ epoch: UInt64?, _ run: RunID, _ outcome: AgentBook.RunOutcome,
                    _ c: Caller, _ now: Instant, _ events: inout [Event]) throws(VarlinkError) -> Outcome {
        try requireExecutor(c, agent)
        try checkEpoch(epoch, agent: agent)
        let (answer, caused) = try core { () throws(SchedulerError) in
            try state.agentEnded(agent, session: session, run: run, outcome: outcome, now: now)
        }
        events += caused
        let text = switch answer {
        case .accepted: "accepted"
        case .repeated: "repeated"
        case .stale: "stale"
        }
        return .reply { _, _ in VarlinkReply.frame(parameters: AgentInterface.Ended.Reply(answer: text)) }
    }

    /// `Admin.Agents`: every agent the book knows.
    func agentList() -> Outcome {
        .reply { state, _ in
            VarlinkReply.frame(parameters: AdminInterface.Agents.Reply(agents: state.agents.allAgents.map { a in
                WireAgent(name: a.id.name, datacenter: a.datacenter, state: a.state.rawValue,
                          lastReport: a.lastHeard?.rfc3339, runs: a.runs.count)
            }))
        }
    }

    /// The connection of a `Connect` stream closed.
    func agentStreamClosed(_ id: UInt64) {
        guard let s = agentStreams.removeValue(forKey: id) else { return }
        state.disconnectAgent(s.agent, session: s.session)
        logger.notice("agent \(s.agent) disconnected (session \(s.session))", metadata: ["agent": "\(s.agent)"])
    }

    /// After a committed batch: pushes new leases and stops to their agents, and ends the streams
    /// of agents the book no longer counts (lost, or connected again elsewhere).
    func pushToAgents(_ events: [Event]) {
        guard !agentStreams.isEmpty else { return }
        var byAgent: [String: [WireLease]] = [:]
        let epoch = leaderEpoch
        withState { s in
            for e in events where e.kind == .placed || e.kind == .stopping {
                guard let lease = s.agents.lease(of: e.job.id), let wire = Self.wireLease(lease, in: s, epoch: epoch) else { continue }
                byAgent[lease.agent.name, default: []].append(wire)
            }
        }
        for (id, stream) in agentStreams {
            guard let known = state.agents.agent(stream.agent), known.session == stream.session, known.state != .lost else {
                endAgentStream(id, AgentRefusal.lost(stream.agent))
                continue
            }
            guard let leases = byAgent[stream.agent], !leases.isEmpty else { continue }
            let frame = VarlinkReply.frame(parameters: AgentInterface.Connect.Reply(session: Int(stream.session), leases: leases,
                                                                                     epoch: epoch.map { Int($0) }),
                                           continues: true)
            if !stream.send(frame) {
                metrics.slowConsumer("agent")
                endAgentStream(id, VarlinkError.slowConsumer(behind: configuration.server.watchBufferEvents))
            }
        }
    }

    private func endAgentStream(_ id: UInt64, _ error: VarlinkError?) {
        guard let s = agentStreams.removeValue(forKey: id) else { return }
        state.disconnectAgent(s.agent, session: s.session)
        if let error { s.respond(VarlinkReply.frame(error: error)) }
    }

    /// A lease as its agent receives it, sent under leader `epoch` (replicas).
    static func wireLease(_ lease: AgentBook.Lease, in state: borrowing SchedulerState, epoch: UInt64?) -> WireLease? {
        guard let job = state.job(lease.run.job) else { return nil }
        let spec = job.spec
        return WireLease(
            job: job.id.description, attempt: lease.run.attempt, command: spec.command,
            environment: spec.environment.isEmpty ? nil : spec.environment, workingDirectory: spec.workingDirectory,
            cpu: spec.resources.cpu, memoryGiB: spec.resources.memoryGiB,
            accelerators: spec.resources.accelerators == 0 ? nil : spec.resources.accelerators, replicas: spec.replicas,
            durationSeconds: spec.durationSeconds, stop: lease.stopReason?.rawValue,
            pool: job.placement.map { state.names(of: $0).pool }, epoch: epoch.map { Int($0) })
    }
}

/// Why an agent's stream is ended.
enum AgentRefusal {
    static func lost(_ agent: String) -> VarlinkError {
        SchedulerInterface.AgentRefused(agent: agent, reason: "declared lost; its runs were requeued: kill every run "
            + "and connect again").varlinkError
    }

    static func certificate(_ agent: String, _ reason: String) -> VarlinkError {
        SchedulerInterface.AgentRefused(agent: agent, reason: reason).varlinkError
    }

    static func superseded(_ agent: String) -> VarlinkError {
        SchedulerInterface.AgentRefused(agent: agent, reason: "connected again: this stream is over").varlinkError
    }
}
