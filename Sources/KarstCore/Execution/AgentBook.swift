/// Who runs what: the site agents the daemon knows, the one run leased for each job that runs
/// on an agent, and the judgement of the agents' silence (`AgentTimeouts`).
///
/// Pure, like the rest of the core: time comes in as an `Instant`, and every change says what
/// the caller must do (start or stop a run, requeue a lost one, free capacity on a confirmed
/// end). Invariants (`invariantViolation`):
/// - a job has at most one lease (so at most one live attempt), held by a known agent that is
///   not lost and lists it;
/// - a lease ends only when its agent reports the run ended or is declared lost: until then the
///   run's capacity stays held, stopping included;
/// - a report names (job, attempt): the first terminal report wins, a repeat gets the same
///   answer, a report for an attempt that is not the current lease is answered "kill it".
public struct AgentBook: Sendable {
    public private(set) var timeouts: AgentTimeouts
    private var agents: [AgentID: Agent] = [:]
    private var leases: [JobID: Lease] = [:]
    /// The last terminal report accepted per job: a repeat of it gets the same answer.
    private var ended: [JobID: (run: RunID, agent: AgentID, outcome: RunOutcome)] = [:]
    private var nextSession: UInt64 = 1

    public init(timeouts: AgentTimeouts) { self.timeouts = timeouts }

    /// After a restart: the leases the store held, each agent known but not connected. Its
    /// silence is counted from the first `tick` (the restore knows no time): a fresh grace of
    /// `timeouts.lost` before anything is lost.
    public init(timeouts: AgentTimeouts, restoring stored: [Lease], datacenters: [AgentID: String]) {
        self.timeouts = timeouts
        for lease in stored {
            leases[lease.run.job] = lease
            agents[lease.agent, default: Agent(id: lease.agent, datacenter: datacenters[lease.agent] ?? "",
                                               state: .disconnected, lastReport: Self.notYet, session: 0)]
                .runs.insert(lease.run.job)
        }
    }

    /// `lastReport` of an agent restored but not yet ticked: its grace starts at the next tick.
    static let notYet = Instant(microseconds: Int64.min)

    /// Takes new timeouts (a reload); agents, leases and their silences stay.
    public mutating func reconfigure(timeouts: AgentTimeouts) { self.timeouts = timeouts }

    // MARK: - Types

    /// How the daemon sees an agent.
    public enum AgentState: String, Hashable, Sendable {
        /// Connected and reporting: gets new leases.
        case live
        /// Connected but silent for `suspect`: no new leases.
        case suspect
        /// Its connection is gone (or, after a restart, not back yet): no new leases.
        case disconnected
        /// Silent for `lost`: its runs were requeued; it must kill whatever it still runs.
        case lost
    }

    /// An agent as the book keeps it.
    public struct Agent: Hashable, Sendable {
        public var id: AgentID
        public var datacenter: String
        public var state: AgentState
        /// When the daemon last heard from it.
        public var lastReport: Instant
        /// Its current connection; reports over an older one are refused.
        public var session: UInt64
        /// The jobs whose runs it holds.
        public var runs: Set<JobID> = []

        /// When the daemon last heard from it; nil for an agent restored from the store that has
        /// not reported since.
        public var lastHeard: Instant? { lastReport == AgentBook.notYet ? nil : lastReport }
    }

    /// Where a leased run is.
    public enum Phase: Hashable, Sendable {
        /// Committed and sent; the agent has not reported it started.
        case leased
        /// Started, under the site's own id for it (pid, unit, Slurm job id).
        case running(siteID: String)
        /// Asked to stop; its capacity is held until the agent confirms the end.
        case stopping(StopReason)
    }

    /// Why a run is asked to stop.
    public enum StopReason: String, Hashable, Sendable {
        case cancelled, preempted, drained, offline
    }

    /// A run leased to an agent.
    public struct Lease: Hashable, Sendable {
        public var run: RunID
        public var agent: AgentID
        public var phase: Phase
        public var leasedAt: Instant
        /// The site's id for the run, once it started (kept through stopping).
        public var siteID: String?

        public init(run: RunID, agent: AgentID, phase: Phase = .leased, leasedAt: Instant, siteID: String? = nil) {
            self.run = run
            self.agent = agent
            self.phase = phase
            self.leasedAt = leasedAt
            self.siteID = siteID
        }

        /// Why it is stopping, if it is.
        public var stopReason: StopReason? {
            if case .stopping(let r) = phase { return r }
            return nil
        }
    }

    /// How a run ended, as its agent reports it.
    public struct RunOutcome: Hashable, Sendable {
        public var succeeded: Bool
        /// The exit status, when the run had one.
        public var exitStatus: Int?
        public var message: String?
        /// The agent killed the run itself, not for anything the run did: it had lost the
        /// daemon for the fence timeout. The job is requeued as a new attempt (its own
        /// failure would have used up a retry).
        public var fenced: Bool

        public init(succeeded: Bool, exitStatus: Int? = nil, message: String? = nil, fenced: Bool = false) {
            self.succeeded = succeeded
            self.exitStatus = exitStatus
            self.message = message
            self.fenced = fenced
        }
    }

    /// Why an agent's report or connection is refused.
    public enum AgentError: Error, Hashable, Sendable {
        case unknownAgent(AgentID)
        /// A newer connection of this agent exists: this one must stop.
        case staleSession(AgentID)
        /// Declared lost: every run it still has was requeued elsewhere; it must kill them all
        /// and connect again.
        case lost(AgentID)
        /// The agent serves another data centre than it claims now, while it still holds runs.
        case wrongDatacenter(AgentID, serves: String)
    }

    /// The answer to a `started` report.
    public enum StartAnswer: Hashable, Sendable {
        /// Recorded (or already was): let it run.
        case run
        /// Not this agent's current lease (another attempt is current, or none), or a stop is
        /// pending: kill it.
        case kill
    }

    /// The answer to an end report.
    public enum EndAnswer: Hashable, Sendable {
        /// The first report of this end: the lease is over and its capacity free. `stopped`: the
        /// run was stopping, and the job's end is the stop's (cancelled, preempted, …) rather
        /// than the run's own.
        case accepted(stopped: StopReason?)
        /// This end was already reported: nothing changes.
        case repeated
        /// Not the current attempt of the job on this agent: nothing changes.
        case stale
    }

    /// What a silence the book noticed means.
    public enum Change: Hashable, Sendable {
        case suspect(AgentID)
        /// Declared lost; these were its leases, now ended: requeue each as a new attempt (or,
        /// for one that was stopping, finish the stop).
        case lost(AgentID, [Lease])
    }

    // MARK: - Agents

    /// An agent connects (first time, or again): it becomes live on a new session. Returns the
    /// session and its leases, to send again (a run it does not hold must be started; one it
    /// holds that is not among them must be killed).
    public mutating func connect(_ id: AgentID, datacenter: String, now: Instant) throws(AgentError) -> (session: UInt64, leases: [Lease]) {
        if let known = agents[id], known.datacenter != datacenter, !known.runs.isEmpty {
            throw .wrongDatacenter(id, serves: known.datacenter)
        }
        let session = nextSession
        nextSession += 1
        var agent = agents[id] ?? Agent(id: id, datacenter: datacenter, state: .live, lastReport: now, session: session)
        agent.datacenter = datacenter
        agent.state = .live
        agent.lastReport = agent.lastReport == Self.notYet ? now : max(agent.lastReport, now)
        agent.session = session
        agents[id] = agent
        return (session, agent.runs.sorted().compactMap { leases[$0] })
    }

    /// The agent's connection `session` closed: no new leases until it connects again; lost if
    /// it stays away for `timeouts.lost`.
    public mutating func disconnected(_ id: AgentID, session: UInt64) {
        guard var agent = agents[id], agent.session == session, agent.state != .lost else { return }
        agent.state = .disconnected
        agents[id] = agent
    }

    /// A report (a heartbeat, or any other) from `id` over `session` at `now`.
    public mutating func heard(_ id: AgentID, session: UInt64, now: Instant) throws(AgentError) {
        guard var agent = agents[id] else { throw .unknownAgent(id) }
        guard agent.session == session else { throw .staleSession(id) }
        guard agent.state != .lost else { throw .lost(id) }
        agent.lastReport = max(agent.lastReport, now)
        if agent.state == .suspect { agent.state = .live }
        agents[id] = agent
    }

    /// Suspects and loses agents by their silence at `now`. Deterministic: agents in id order.
    public mutating func tick(now: Instant) -> [Change] {
        var changes: [Change] = []
        for id in agents.keys.sorted() {
            var agent = agents[id]!
            guard agent.state != .lost else { continue }
            if agent.lastReport == Self.notYet {
                agent.lastReport = now
                agents[id] = agent
                continue
            }
            let silence = agent.lastReport.seconds(to: now)
            if silence >= timeouts.lost {
                let lost = agent.runs.sorted().compactMap { leases.removeValue(forKey: $0) }
                agent.runs = []
                agent.state = .lost
                agents[id] = agent
                changes.append(.lost(id, lost))
            } else if silence >= timeouts.suspect, agent.state == .live {
                agent.state = .suspect
                agents[id] = agent
                changes.append(.suspect(id))
            }
        }
        return changes
    }

    /// When the next `tick` could change something: the earliest suspect or lost deadline.
    public var nextDeadline: Instant? {
        agents.values.compactMap { a -> Instant? in
            switch a.state {
            case .live: a.lastReport.advanced(bySeconds: timeouts.suspect)
            case .suspect, .disconnected: a.lastReport.advanced(bySeconds: timeouts.lost)
            case .lost: nil
            }
        }.min()
    }

    // MARK: - Leases

    /// Whether a live agent serves `datacenter` (else its work waits: `no agent`).
    public func canLease(in datacenter: String) -> Bool {
        agents.values.contains { $0.datacenter == datacenter && $0.state == .live }
    }

    /// Leases `run` to the live agent of `datacenter` with the fewest runs (ties: the first by
    /// name). Nil when none is live, or the job already has a lease (its run must end first).
    public mutating func lease(_ run: RunID, in datacenter: String, now: Instant) -> AgentID? {
        guard leases[run.job] == nil else { return nil }
        let candidates = agents.values.filter { $0.datacenter == datacenter && $0.state == .live }
        guard let chosen = candidates.min(by: { ($0.runs.count, $0.id) < ($1.runs.count, $1.id) }) else { return nil }
        leases[run.job] = Lease(run: run, agent: chosen.id, leasedAt: now)
        agents[chosen.id]!.runs.insert(run.job)
        ended[run.job] = nil
        return chosen.id
    }

    /// The agent reports `run` started under `siteID`.
    public mutating func started(_ id: AgentID, session: UInt64, run: RunID, siteID: String,
                                 now: Instant) throws(AgentError) -> StartAnswer {
        try heard(id, session: session, now: now)
        guard var lease = leases[run.job], lease.run == run, lease.agent == id else { return .kill }
        lease.siteID = siteID
        switch lease.phase {
        case .leased, .running:
            lease.phase = .running(siteID: siteID)
            leases[run.job] = lease
            return .run
        case .stopping:
            leases[run.job] = lease
            return .kill
        }
    }

    /// The agent reports `run` ended.
    public mutating func ended(_ id: AgentID, session: UInt64, run: RunID, outcome: RunOutcome,
                               now: Instant) throws(AgentError) -> EndAnswer {
        try heard(id, session: session, now: now)
        if let last = ended[run.job], last.run == run, last.agent == id { return .repeated }
        guard let lease = leases[run.job], lease.run == run, lease.agent == id else { return .stale }
        leases[run.job] = nil
        agents[id]!.runs.remove(run.job)
        ended[run.job] = (run, id, outcome)
        return .accepted(stopped: lease.stopReason)
    }

    /// Asks the run of `job` to stop for `reason`: the agent to tell and the run, or nil when the
    /// job has no lease. A cancellation overrides another reason already pending; otherwise the
    /// first reason stands.
    public mutating func stop(_ job: JobID, reason: StopReason) -> (agent: AgentID, run: RunID)? {
        guard var lease = leases[job] else { return nil }
        switch lease.stopReason {
        case nil: lease.phase = .stopping(reason)
        case .some(let pending) where pending != .cancelled && reason == .cancelled: lease.phase = .stopping(.cancelled)
        default: break
        }
        leases[job] = lease
        return (lease.agent, lease.run)
    }

    /// Forgets what the book remembers of a job that is gone (pruned).
    public mutating func forget(_ job: JobID) { ended[job] = nil }

    // MARK: - Views

    /// The lease of `job`, if it runs on an agent.
    public func lease(of job: JobID) -> Lease? { leases[job] }

    /// Every lease, by job.
    public var allLeases: [Lease] { leases.keys.sorted().map { leases[$0]! } }

    /// The agent called `name`, if the book knows it.
    public func agent(_ name: String) -> Agent? { agents[AgentID(name)] }

    /// Every agent, by name.
    public var allAgents: [Agent] { agents.keys.sorted().map { agents[$0]! } }

    /// What breaks the book's invariants, or nil.
    public func invariantViolation() -> String? {
        for (job, lease) in leases {
            guard lease.run.job == job else { return "lease of \(job) is filed under \(lease.run)" }
            guard let agent = agents[lease.agent] else { return "\(lease.run) is leased to unknown \(lease.agent)" }
            guard agent.state != .lost else { return "\(lease.run) is leased to lost \(agent.id)" }
            guard agent.runs.contains(job) else { return "\(agent.id) does not list its lease \(lease.run)" }
        }
        for agent in agents.values {
            for job in agent.runs where leases[job]?.agent != agent.id {
                return "\(agent.id) lists \(job), which is not leased to it"
            }
        }
        return nil
    }
}
