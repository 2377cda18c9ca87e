import KarstConfig
import KarstCore
import KarstProtocol
import KarstWire
import Logging
import KarstStore
import Prometheus

/// The one owner of the scheduling state. It takes a batch of calls, applies them, runs the
/// modelled executor and one scheduling pass, then answers every call of the batch and publishes
/// the batch's events (to watchers, metrics and the log).
///
/// Confinement: an `EngineCore` is used by one thread at a time — the engine thread in the daemon,
/// the test in tests. It is not locked; that is why it is `@unchecked Sendable`.
public final class EngineCore: @unchecked Sendable {
    public internal(set) var state: SchedulerState
    public internal(set) var configuration: KarstConfiguration
    /// Increments with every successful reload.
    public internal(set) var generation = 1
    /// Why the last reload was refused, until one succeeds (kept in `STATUS=`: the periodic
    /// status line must not wipe the failure an operator looks for in `systemctl status`).
    public internal(set) var lastReloadFailure: String?
    let configPath: String?
    let clock: any ModelClock
    let logger: Logger
    let metrics: KarstMetrics
    var watchers: [UInt64: Watcher] = [:]
    /// Site agents' `Connect` streams, by the id of the call that opened each.
    var agentStreams: [UInt64: AgentStream] = [:]
    /// (monotonic seconds, placements) per batch, for the placement rate.
    private var placementLog: [(Double, Int)] = []
    private var lastRefresh = 0.0
    /// The durable store; nil runs the daemon in memory only (`--ephemeral`, tests).
    public let store: (any StateStore)?
    /// Why the store cannot be written, while it cannot (degraded mode); nil when healthy.
    public internal(set) var storeProblem: String?
    /// The in-memory state holds a batch the store refused and could not be read back to undo it
    /// (a shared database out of reach): reads are served from memory meanwhile; the state is
    /// reloaded from the store before any write is taken again.
    var stateAheadOfStore = false
    /// Calls the pass changed state for, beyond events (reconfiguration), to store with the batch.
    var extraChangedJobs: [JobID] = []
    /// Data-centre states or the configuration generation changed in this batch.
    var metaChanged = false
    /// When finished jobs were last pruned (the clock's monotonic seconds); never, at first, so
    /// the first batch after a start prunes.
    private var lastPrune = -Double.infinity
    /// Called after every batch with a one-line summary (for systemd's STATUS=).
    public var onStatus: (@Sendable (String) -> Void)?
    /// How the core queues work for itself on its engine (set by `Engine`); nil when a test
    /// drives the core directly.
    var submitToSelf: (@Sendable (EngineItem) -> Void)?
    /// Where work that must not run on the engine thread goes (reading a configuration, a
    /// backup); nil when a test drives the core directly: such work then runs in place.
    public var background: BackgroundWork?
    /// Reload answers of this batch, sent after its commit.
    var deferredReplies: [(@Sendable (Result<Int, VarlinkError>) -> Void, Result<Int, VarlinkError>)] = []
    /// Called when a reload begins (systemd: `RELOADING=1`).
    public var onReloadStart: (@Sendable () -> Void)?
    /// Called after a reload attempt: the new generation, or why it failed.
    public var onReload: (@Sendable (Result<Int, ConfigError>) -> Void)?

    struct Watcher {
        var ids: Set<JobID>?
        var tenant: String?
        var send: @Sendable ([UInt8]) -> Bool
        var respond: @Sendable ([UInt8]) -> Void
    }

    public init(configuration: KarstConfiguration, configPath: String?, clock: any ModelClock, logger: Logger,
                registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(), store: (any StateStore)? = nil,
                state: SchedulerState? = nil, generation: Int = 1) {
        self.configuration = configuration
        self.configPath = configPath
        self.store = store
        self.generation = generation
        self.state = state ?? SchedulerState(topology: configuration.topology)
        self.clock = clock
        self.logger = logger
        self.metrics = KarstMetrics(registry: registry)
        metrics.registerAtZero(self.state)
    }

    /// Processes one batch at the clock's current time.
    public func process(_ items: [EngineItem]) {
        process(items, now: clock.now())
    }

    /// Processes one batch at `now`: apply every call, complete due jobs, schedule, commit the
    /// batch's changes in one transaction, then answer — nothing is acknowledged before it is on
    /// disk.
    public func process(_ items: [EngineItem], now: Instant) {
        var events: [Event] = []
        var answers: [(EngineRequest, Outcome)] = []
        var barriers: [@Sendable () -> Void] = []
        answers.reserveCapacity(items.count)
        events.reserveCapacity(2 * items.count + 16)  // a submit and its placement, mostly
        let healthy = probeStore(now: now)
        // What a failed commit puts back besides the state: a reload of this batch.
        let before = (configuration: configuration, generation: generation)
        for item in items {
            switch item {
            case .request(let r):
                if !healthy && r.command.mutates {
                    answers.append((r, .error(storageUnavailable())))
                    continue
                }
                answers.append((r, handle(r, now: now, events: &events)))
            case .unwatch(let id):
                watchers[id] = nil
                agentStreamClosed(id)
            case .applyConfiguration(let parsed, let respond):
                guard healthy else {
                    respond?(.failure(storageUnavailable()))
                    continue
                }
                let result = applyParsed(parsed, now: now)
                if let respond { deferredReplies.append((respond, result)) }
            case .barrier(let done):
                barriers.append(done)
            }
        }
        // While the store is unwritable the model holds still: nothing could be recorded.
        if healthy { state.tick(now: now, into: &events) }
        let committed = persist(storeBatch(for: events, extraJobs: extraChangedJobs, metaChanged: metaChanged),
                                configurationBefore: before)
        extraChangedJobs.removeAll()
        metaChanged = false
        if !committed { events.removeAll() }
        var bySink = SinkBatches()
        let answeredAt = ScaledWallClock.monotonicSeconds()
        withState { state in
            for (r, outcome) in answers {
                // A streaming call (Watch, Backup, Reload) answers later, by itself; a reload in
                // a batch that failed to commit is refused through its deferred reply below, so
                // it must not get a second one here.
                guard !r.oneway else { continue }
                if case .streaming = outcome { continue }
                let reply: EngineReply
                if !committed && r.command.mutates {
                    reply = .frame(VarlinkReply.frame(error: storageUnavailable()))
                } else {
                    switch outcome {
                    case .error(let e): reply = .frame(VarlinkReply.frame(error: e))
                    case .reply(let render): reply = .frame(render(state, self))
                    case .job(let id, let withPosition):
                        if let snapshot = Self.jobSnapshot(id, withPosition: withPosition, in: state) {
                            reply = .job(snapshot)
                        } else {
                            reply = .frame(VarlinkReply.frame(error: SchedulerInterface.NoSuchJob(id: id.description).varlinkError))
                        }
                    case .streaming: continue  // (handled above)
                    }
                }
                bySink.append((r.sequence, reply), to: r.sink)
                if r.receivedAt > 0 {
                    metrics.callDuration(r.command.method, seconds: answeredAt - r.receivedAt)
                }
            }
        }
        bySink.deliver()
        for (respond, result) in deferredReplies {
            respond(committed || (try? result.get()) == nil ? result : .failure(storageUnavailable()))
        }
        deferredReplies.removeAll()
        withState { publish(events, $0) }
        pushToAgents(events)
        for done in barriers { done() }
        notePlacements(events)
        // Gauges and status are views for humans and scrapers: refreshed at most ten times a
        // second, not on every batch of a busy engine.
        let wall = clock.monotonicSeconds()
        if wall - lastRefresh >= 0.1 || items.isEmpty {
            lastRefresh = wall
            let watches = watchers.count
            let generation = self.generation
            withState { metrics.refreshGauges($0, now: now, watches: watches, generation: generation, wall: wall) }
            onStatus?(statusLine)
        }
        if wall - lastPrune >= 3600 {
            lastPrune = wall
            prune(now: now)
        }
    }

    /// Drops finished jobs and events older than the retention from disk and memory.
    func prune(now: Instant) {
        let cutoff = now.advanced(bySeconds: -configuration.state.retentionDays * 86400)
        if let store, storeProblem == nil {
            do {
                let (jobs, events) = try store.prune(before: cutoff)
                if jobs + events > 0 { logger.info("pruned \(jobs) finished jobs and \(events) events older than \(cutoff)") }
            } catch {
                logger.warning("pruning failed: \(error)")
                return
            }
        }
        state.forget(finishedBefore: cutoff)
    }

    /// When the engine should next run even without calls: the next modelled completion, but at
    /// least once a model-second so windows, prices and reasons stay fresh.
    public var nextWake: Instant {
        let soon = clock.now().advanced(bySeconds: 1)
        guard let due = state.nextCompletion else { return soon }
        return min(due, soon)
    }

    /// One line for `STATUS=` and logs.
    public var statusLine: String {
        var line = "pending \(state.pendingCount), running \(state.runningTotal), "
            + "\(formatRate(placementsPerSecond)) placements/s, config generation \(generation)"
        let agents = state.agents.allAgents
        if !agents.isEmpty {
            line += ", agents \(agents.filter { $0.state == .live }.count) live of \(agents.count)"
        }
        if let lastReloadFailure {
            line = "reload FAILED, previous configuration still in force: \(lastReloadFailure); " + line
        }
        if let storeProblem { line = "STORAGE UNAVAILABLE (serving reads, retrying writes): \(storeProblem); " + line }
        return line
    }

    /// Placements per wall second over the last 10 seconds.
    public var placementsPerSecond: Double {
        let now = clock.monotonicSeconds()
        let recent = placementLog.filter { now - $0.0 <= 10 }
        guard let first = recent.first else { return 0 }
        let span = max(1, now - first.0)
        return Double(recent.reduce(0) { $0 + $1.1 }) / span
    }

    private func notePlacements(_ events: [Event]) {
        let placed = events.lazy.filter { $0.kind == .placed }.count
        let now = clock.monotonicSeconds()
        if placed > 0 { placementLog.append((now, placed)) }
        if let first = placementLog.first, now - first.0 > 10 {
            placementLog.removeAll { now - $0.0 > 10 }
        }
    }

    /// Runs `body` on the state in place. Passing the stored property `state` of this class
    /// straight to a function makes Swift copy the whole struct (retaining and releasing every
    /// buffer in it) to guard against aliasing; an inout access does not. `body` must not touch
    /// `self.state` (that would be an overlapping access).
    @inline(__always)
    func withState<R>(_ body: (inout SchedulerState) throws -> R) rethrows -> R { try body(&state) }

    /// Sends events to watchers, metrics and the log.
    private func publish(_ events: [Event], _ state: borrowing SchedulerState) {
        for e in events {
            metrics.record(e, state: state)
            log(e, state)
        }
        guard !watchers.isEmpty else { return }
        var dropped: [UInt64] = []
        for e in events {
            var frame: [UInt8]? = nil
            for (id, w) in watchers where w.matches(e) {
                if frame == nil {
                    let wire = WireEvent(kind: e.kind.rawValue, job: WireMapping.job(e.job, in: state), at: e.at.rfc3339)
                    frame = VarlinkReply.frame(parameters: SchedulerInterface.Watch.Reply(event: wire), continues: true)
                }
                if !w.send(frame!) { dropped.append(id) }
            }
        }
        for id in Set(dropped) {
            if let w = watchers.removeValue(forKey: id) {
                metrics.slowConsumer("watch")
                w.respond(VarlinkReply.frame(error: .slowConsumer(behind: configuration.server.watchBufferEvents)))
            }
        }
    }

    private func log(_ e: Event, _ state: borrowing SchedulerState) {
        let level: Logger.Level = e.kind == .submitted ? .debug : (e.kind == .failed ? .warning : .info)
        guard logger.logLevel <= level else { return }
        var meta: Logger.Metadata = [
            "job_id": "\(e.job.id)", "tenant": "\(e.job.tenant)", "class": "\(e.job.spec.priorityClass)",
            "event": "\(e.kind.rawValue)",
        ]
        var text = "\(e.job.id) \(e.kind.rawValue)"
        if let ref = e.job.placement, e.kind != .submitted {
            let (dc, pool) = state.names(of: ref)
            meta["datacenter"] = "\(dc)"
            meta["pool"] = "\(pool)"
            text += " in \(dc)/\(pool)"
        }
        if let detail = e.detail { text += ": \(detail)" }
        logger.log(level: level, "\(text)", metadata: meta)
    }
}

extension EngineCore.Watcher {
    func matches(_ e: Event) -> Bool {
        if let ids, !ids.contains(e.job.id) { return false }
        if let tenant, e.job.tenant != tenant { return false }
        return true
    }
}

/// What handling a call produced; rendered after the batch's scheduling pass, so a reply shows the
/// job as it is then (placed, if it could be).
enum Outcome {
    case error(VarlinkError)
    /// Renders the reply from the state as it is after the pass (borrowed, never copied).
    case reply((borrowing SchedulerState, EngineCore) -> [UInt8])
    /// `{"job": …}` with the job as it is after the pass; rendered by the connection.
    case job(JobID, withPosition: Bool)
    /// A watch started: replies come as events.
    case streaming
}

func formatRate(_ r: Double) -> String {
    r >= 100 ? String(Int(r.rounded())) : String((r * 10).rounded() / 10)
}
