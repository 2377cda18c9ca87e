import CKarstPosix
import Foundation
import KarstClient
import KarstCore
import KarstProtocol
import Logging
import Synchronization

/// A site agent: connects to the daemon as `name` of `datacenter`, runs what it is leased with
/// its backend, and reports starts, ends and that it is alive. It never runs a lease twice (a
/// run is its job and attempt), kills a run the daemon no longer leases to it, and kills every
/// run once it has not reached the daemon for the fence timeout (`AgentFence`), so a run is
/// never alive while the daemon requeues it elsewhere. What it started and what it still owes
/// the daemon is kept in its state directory: a restarted agent finds its runs again.
///
/// Given several daemons (replicas on PostgreSQL), it follows the leader: it connects to the
/// one that answers as leader, skipping standbys (`NotLeader`) and any replica whose epoch is
/// older than the largest it has been leased under (`KnownEpoch`, kept in the state directory),
/// and sends that epoch with every report. Its runs carry over a failover as long as the new
/// leader answers within the fence timeout: the new leader read their leases from the shared
/// database, and lists them on `Connect`.
public final class SiteAgent: @unchecked Sendable {
    public struct Options: Sendable {
        /// The daemons to reach: one, or every replica (tried in turn for the leader).
        public var daemons: [DaemonAddress]
        public var name: String
        public var datacenter: String
        public var host: String
        public var stateDirectory: String
        public init(daemons: [DaemonAddress], name: String, datacenter: String, host: String, stateDirectory: String) {
            precondition(!daemons.isEmpty, "an agent needs a daemon to reach")
            self.daemons = daemons
            self.name = name
            self.datacenter = datacenter
            self.host = host
            self.stateDirectory = stateDirectory
        }
    }

    let options: Options
    let backend: any RunBackend
    let logger: Logger
    var runs: [String: AgentRun] = [:]
    /// Runs whose end the daemon took, and when (Unix seconds): never started again (`AgentState`).
    var tombstones: [String: Double] = [:]
    /// `runs.json` as last written.
    var saved: Data?
    var session: Int?
    /// The leader epoch of the current connection (nil: a single daemon, or none).
    var epoch: Int?
    /// The largest leader epoch this agent has been leased under (`epoch` in the state directory).
    var known: KnownEpoch
    /// The daemon of the current connection, or the one tried first next (`options.daemons`).
    var current = 0
    var reports: VarlinkConnection?
    var stream: VarlinkConnection?
    /// What the stream's reader thread hands over; `generation` tells this connection's reader
    /// from one of an earlier connection still winding down.
    let inbox = Mutex<(leases: [WireLease], closed: Bool, generation: Int)>(([], false, 0))
    var fence: AgentFence
    var lastHeartbeat = 0.0
    var lastSweep = 0.0
    var lastPrune = 0.0
    /// Wakes the loop when the stream brings leases (so a lease starts without waiting out a
    /// poll interval).
    let wake = NSCondition()
    /// Runs asked to stop and not gone yet.
    var stopping = Set<String>()
    /// Leases received, not taken yet (FIFO; see `leasesPerTurn`).
    var backlog: [WireLease] = []
    static let leasesPerTurn = 64
    var onReady: (@Sendable () -> Void)?
    var onLoop: (@Sendable () -> Void)?

    public init(options: Options, backend: any RunBackend, logger: Logger) throws {
        self.options = options
        self.backend = backend
        self.logger = logger
        // Orphans of its runs (a run's shell killed before its children) come to the agent, which
        // reaps them, rather than lingering as zombies in the run's process group.
        _ = karst_set_child_subreaper()
        runs = try AgentState.load(options.stateDirectory)
        known = KnownEpoch(largest: try AgentState.loadEpoch(options.stateDirectory))
        tombstones = AgentState.loadTombstones(options.stateDirectory)
        // A state of an older agent kept reported ends in runs.json: they are tombstones now.
        for (key, run) in runs where run.ended && run.endReported {
            runs[key] = nil
            tombstones[key] = Date().timeIntervalSince1970
        }
        stopping = Set(runs.filter { $0.value.isRunning && $0.value.stopMessage != nil }.keys)
        // The fence counts from the last contact of this agent's previous life, if it had one:
        // a restart does not give its runs a fresh fence the daemon does not give them.
        let previous = ContactFile.read(options.stateDirectory)
        fence = AgentFence(timeouts: AgentTimeouts(fence: previous?.fenceSeconds ?? AgentTimeouts().fence),
                           now: previous?.lastContact ?? monotonicSeconds())
        writeContact(force: true)
        let keeper = try FenceKeeper.ensure(stateDirectory: options.stateDirectory, arguments: backend.keeperArguments)
        logger.notice("backend \(backend.name); resource limits: \(backend.limitsSummary); fence keeper pid \(keeper)")
    }

    /// The contact file as last written.
    private var contactWritten: ContactFile?

    /// Records the last contact for the fence keeper (at most every quarter second, or when the
    /// fence timeout changed).
    func writeContact(force: Bool = false) {
        let now = ContactFile(agentPID: getpid(), lastContact: fence.lastContact, fenceSeconds: fence.timeouts.fence)
        if !force, let last = contactWritten, last.fenceSeconds == now.fenceSeconds,
           now.lastContact - last.lastContact < 0.25 { return }
        now.write(options.stateDirectory)
        contactWritten = now
    }

    /// Called once connected (systemd: READY=1), and at every turn of the loop (WATCHDOG=1).
    public func hooks(ready: @escaping @Sendable () -> Void, loop: @escaping @Sendable () -> Void) {
        onReady = ready
        onLoop = loop
    }

    /// Runs until the process is stopped.
    public func run() -> Never {
        logger.notice("karst-agent \(options.name) of \(options.datacenter): \(runs.count) runs in its state")
        var backoff = 0.2
        while true {
            onLoop?()
            if stream == nil {
                switch connect() {
                case .connected: backoff = 0.2
                case .standbys:
                    // A standby answered: a takeover is under way or due; its end is not waited
                    // out at the longest backoff (a standby answers from memory).
                    Thread.sleep(forTimeInterval: 0.25)
                case .unreachable:
                    Thread.sleep(forTimeInterval: backoff)
                    // With replicas a standby may not listen where agents connect (the agents'
                    // TLS port opens when it leads): the one that takes over is soon asked again.
                    backoff = min(backoff * 2, options.daemons.count > 1 ? 0.5 : 2)
                }
            }
            turn()
            wake.lock()
            if backlog.isEmpty, inbox.withLock({ $0.leases.isEmpty && !$0.closed }) {
                _ = wake.wait(until: Date().addingTimeInterval(0.02))
            }
            wake.unlock()
        }
    }

    /// One turn: leases in, runs polled, reports out, the fence kept.
    func turn() {
        let (leases, closed) = inbox.withLock { box -> ([WireLease], Bool) in
            defer {
                box.leases = []
                box.closed = false
            }
            return (box.leases, box.closed)
        }
        if closed, stream != nil { disconnect("the daemon closed the stream") }
        // At most `leasesPerTurn` started per turn: a burst of thousands would otherwise hold the
        // loop for seconds, with nothing reaped, reported or fenced meanwhile.
        backlog += leases
        let taken = backlog.prefix(Self.leasesPerTurn)
        backlog.removeFirst(taken.count)
        prepare(taken)
        for lease in taken { take(lease) }
        pollRuns()
        var now = monotonicSeconds()
        if now - lastPrune >= 60 {
            lastPrune = now
            let dayAgo = Date().timeIntervalSince1970 - AgentState.tombstoneSeconds
            tombstones = tombstones.filter { $0.value >= dayAgo }
        }
        if let session, let reports { report(session, reports) }
        now = monotonicSeconds()
        if fence.mustFence(at: now), runs.values.contains(where: { $0.isRunning }) {
            logger.error("no contact with the daemon for \(fence.timeouts.fence) s: killing every run (fence)")
            fenceAll("killed: agent fenced (no contact with the daemon)")
        }
        save()
    }

    // MARK: - Connection

    /// A new connection to `daemon`: its Unix socket, or over TLS for a remote agent.
    func open(_ daemon: DaemonAddress) throws -> VarlinkConnection {
        switch daemon {
        case .socket(let path): return try VarlinkConnection(path: path)
        case .remote(let remote): return try remote.connect(timeoutSeconds: connectTimeout)
        }
    }

    /// How long a `Connect` (and, remotely, the TCP connect and TLS handshake) may take: with
    /// replicas, short — a paused or unreachable one must not hold the agent from the leader
    /// while its fence runs (a leader answers `Connect` at once).
    var connectTimeout: Double { options.daemons.count > 1 ? min(answerTimeout, 1.5) : answerTimeout }

    /// Replicas that failed other than as standbys (refused, timed out), and until when (the
    /// agent's clock) they are left out while the others are tried.
    var unreachableUntil: [Int: Double] = [:]

    /// How an attempt to connect went.
    enum Attempt { case connected, standbys, unreachable }

    /// Connects to the leader: the daemon of the last connection first unless it was lost, then
    /// the others in order. `standbys` when none answered as leader but one as a standby (the
    /// reasons logged).
    func connect() -> Attempt {
        var failures: [String] = []
        var standby = false
        let count = options.daemons.count
        let started = monotonicSeconds()
        // A replica that just failed is left out for a few seconds, unless all of them did.
        var order = (0..<count).map { (current + $0) % count }
        let available = order.filter { (unreachableUntil[$0] ?? 0) <= started }
        if !available.isEmpty { order = available }
        for index in order {
            let daemon = options.daemons[index]
            onLoop?()  // each attempt may wait for connectTimeout: the watchdog is fed between them
            do {
                try connect(to: daemon)
                current = index
                unreachableUntil[index] = nil
                lastConnectFailure = ("", 0)
                return .connected
            } catch {
                if let e = error as? VarlinkError, ProtocolInterface.NotLeader(e) != nil { standby = true } else if count > 1 {
                    unreachableUntil[index] = monotonicSeconds() + 3
                }
                failures.append(count == 1 ? "\(error)" : "\(daemon): \(Self.describe(error))")
            }
        }
        // A misconfigured agent retries every two seconds: the same reasons are logged once a minute.
        let reason = count == 1 ? failures[0] : "no daemon answered as leader: " + failures.joined(separator: "; ")
        let now = monotonicSeconds()
        if reason != lastConnectFailure.reason || now - lastConnectFailure.at >= 60 {
            logger.warning("\(reason)")
            lastConnectFailure = (reason, now)
        }
        return standby ? .standbys : .unreachable
    }

    /// A refusal in a few words: a standby's names the leader.
    static func describe(_ error: any Error) -> String {
        guard let e = error as? VarlinkError, let n = ProtocolInterface.NotLeader(e) else { return "\(error)" }
        return n.explanation
    }

    func connect(to daemon: DaemonAddress) throws {
        let sentAt = monotonicSeconds()
        let s = try open(daemon)
        var keep = false
        defer { if !keep { s.close() } }
        // A daemon that accepts but does not answer (stopped, hung) must not hold the loop:
        // the fence has to be kept meanwhile.
        s.setReceiveTimeout(seconds: connectTimeout)
        try s.stream(AgentInterface.Connect.name, AgentInterface.Connect.Parameters(
            agent: options.name, datacenter: options.datacenter, backend: backend.name, host: options.host,
            epoch: known.largest.map { Int($0) }).jsonObject)
        let reply = try s.receive()
        if let e = reply.error { throw e }
        let first = try AgentInterface.Connect.Reply(object: reply.parameters, path: .root, strict: false)
        let answered = first.epoch.flatMap { UInt64(exactly: $0) }
        switch known.judge(answered) {
        case .stale(let epoch?, let largest):
            throw AgentFailure.staleLeader("answers as leader of epoch \(epoch), older than epoch \(largest) this agent "
                + "was leased under: an old leader")
        case .stale(nil, let largest):
            throw AgentFailure.staleLeader("answers with no leader epoch, where this agent was leased under epoch \(largest): "
                + "a replica whose term is over, or not a replica (a hub moved back to one daemon: remove the agent's "
                + "epoch file)")
        case .leader(let newer):
            // Recorded before its leases are acted on: a restarted agent must not go back to an
            // older leader. A save that fails refuses this connection (and is tried again).
            if newer, let epoch = answered {
                try AgentState.saveEpoch(epoch, to: options.stateDirectory)
                known.record(epoch)
                logger.notice("leader epoch \(epoch) (\(daemon))")
            }
        }
        let r = try open(daemon)
        keep = true
        session = first.session
        epoch = first.epoch
        fence = AgentFence(timeouts: AgentTimeouts(reportInterval: first.reportIntervalSeconds ?? 1,
                                                  fence: first.fenceSeconds ?? 10), now: sentAt)
        s.setReceiveTimeout(seconds: 0)  // the stream is quiet while there is nothing to lease
        r.setReceiveTimeout(seconds: answerTimeout)
        writeContact(force: true)
        // Runs still going are reported started again on this connection: a daemon that
        // restarted (or a new leader) learns their site ids, output and limits anew.
        for key in runs.keys where runs[key]!.isRunning { runs[key]!.startReported = false }
        stream = s
        reports = r
        reconcile(first.leases)
        startReader(s)
        let over = options.daemons.count > 1 ? " to \(daemon)" : ""
        let term = first.epoch.map { ", leader epoch \($0)" } ?? ""
        logger.notice("connected\(over) as \(options.name), session \(first.session)\(term), \(first.leases.count) runs leased")
        onReady?()
    }

    /// The last reason a connection failed, and when it was logged.
    var lastConnectFailure: (reason: String, at: Double) = ("", 0)

    /// How long a report may wait for its answer before the connection is judged broken: half
    /// the fence, so the agent reconnects (or fences) in time, and at most 4 s, within the
    /// watchdog of its unit (`WatchdogSec=10s`), which the loop feeds.
    var answerTimeout: Double { max(0.5, min(fence.timeouts.fence / 2, 4)) }

    func disconnect(_ why: String) {
        logger.warning("disconnected: \(why)")
        backlog = []  // the next connection's first reply lists every lease again
        // The stream's reader thread holds it until it sees the end: shut down, not closed here,
        // so its descriptor is not reused by the next connection while the reader may still read.
        stream?.shutdown()
        reports?.close()
        stream = nil
        reports = nil
        session = nil
        epoch = nil
        // The daemon lost may be a leader paused or cut off: the others are tried first (a
        // paused one would hold the next attempt for the answer timeout).
        current = (current + 1) % options.daemons.count
    }

    private func startReader(_ s: VarlinkConnection) {
        let generation = inbox.withLock { box -> Int in
            box.generation += 1
            box.closed = false
            return box.generation
        }
        Thread.detachNewThread { [self] in
            while true {
                guard let reply = try? s.receive(), reply.error == nil,
                      let update = try? AgentInterface.Connect.Reply(object: reply.parameters, path: .root, strict: false)
                else {
                    self.inbox.withLock { if $0.generation == generation { $0.closed = true } }
                    self.wake.lock()
                    self.wake.signal()
                    self.wake.unlock()
                    return
                }
                self.inbox.withLock { if $0.generation == generation { $0.leases += update.leases } }
                self.wake.lock()
                self.wake.signal()
                self.wake.unlock()
            }
        }
    }

    // MARK: - Runs

    /// The first reply's leases: start what is missing, kill what is not leased any more.
    func reconcile(_ leases: [WireLease]) {
        let leased = Set(leases.map { AgentRun.key($0.job, $0.attempt) })
        for (key, run) in runs where run.isRunning && !leased.contains(key) {
            logger.warning("\(key) is not leased to this agent any more: killing it")
            end(key, status: nil, message: "killed: not leased to this agent any more")
        }
        prepare(leases)
        for lease in leases { take(lease) }
    }

    /// Lets the backend look up at once the leases `take` will ask it about (`startedBefore`):
    /// those neither running here nor ended.
    func prepare(_ leases: some Collection<WireLease>) {
        backend.prepare(leases.filter {
            let key = AgentRun.key($0.job, $0.attempt)
            return runs[key] == nil && tombstones[key] == nil
        })
    }

    func take(_ lease: WireLease) {
        let key = AgentRun.key(lease.job, lease.attempt)
        if runs[key] == nil, tombstones[key] == nil, let found = backend.startedBefore(job: lease.job, attempt: lease.attempt) {
            // Started by this agent before a crash that came before its state was saved: the
            // same run, found again (and judged by `pollRuns`), not a second one.
            logger.warning("\(key) was started before the agent's state was saved: adopting \(found.siteID)",
                           metadata: metadata(lease.job, lease.attempt))
            runs[key] = AgentRun(job: lease.job, attempt: lease.attempt, pgid: found.pgid, handle: found.handle,
                                 siteID: found.siteID)
        }
        if lease.stop != nil {
            if runs[key]?.isRunning == true {
                logger.notice("\(key): stop (\(lease.stop!))", metadata: metadata(lease.job, lease.attempt))
                requestStop(key, message: "killed: \(lease.stop!)")
            } else if runs[key] == nil {
                // Asked to stop a run it never started: its end is owed all the same.
                runs[key] = .neverStarted(lease, message: "stopped before it started")
            }
            return
        }
        guard runs[key] == nil, tombstones[key] == nil else { return }  // known: running, or ended (never run twice)
        do {
            let started = try backend.start(lease)
            runs[key] = AgentRun(job: lease.job, attempt: lease.attempt, pgid: started.pgid, handle: started.handle,
                                 siteID: started.siteID, limits: started.limits)
            logger.notice("\(key) started: \(started.siteID), output \(backend.output(job: lease.job, attempt: lease.attempt)); \(started.limits ?? "")",
                          metadata: metadata(lease.job, lease.attempt))
        } catch {
            runs[key] = .neverStarted(lease, message: "\(error)")
        }
    }

    /// Asks run `key` to stop: SIGTERM to its group now, SIGKILL once `stopGrace` has passed
    /// (`pollRuns`); its end, with `message`, once its group is gone. The loop goes on meanwhile
    /// (reports and heartbeats are not held up by a run slow to die).
    func requestStop(_ key: String, message: String) {
        guard var run = runs[key], run.isRunning, run.stopMessage == nil else { return }
        run.stopMessage = message
        run.stopDeadline = monotonicSeconds() + Self.stopGrace
        runs[key] = run
        stopping.insert(key)
        backend.terminate(run)
    }

    /// Seconds between SIGTERM and SIGKILL when a run is asked to stop.
    static let stopGrace = 5.0

    /// Judges the runs asked to stop at every turn, and lets the backend judge the others (it
    /// looks at every run once a second, `sweep`).
    func pollRuns() {
        let now = monotonicSeconds()
        for key in stopping {
            guard let run = runs[key], run.isRunning else {
                stopping.remove(key)
                continue
            }
            if backend.isGone(run) {
                end(key, status: nil, message: run.stopMessage, kill: false)
                stopping.remove(key)
            } else if now >= run.stopDeadline ?? 0 {
                backend.kill(run)
            }
        }
        let sweep = now - lastSweep >= 1
        if sweep { lastSweep = now }
        let running = runs.values.filter { $0.isRunning && $0.stopMessage == nil }
        for (key, end) in backend.ended(running, sweep: sweep) {
            self.end(key, status: end.exitStatus, message: end.message, kill: false, fenced: end.fenced)
        }
    }

    /// Records run `key`'s end. `kill`: the agent ends it now (fence, a stale run); otherwise its
    /// backend saw it end, and only what it left behind is cleared (`release`).
    func end(_ key: String, status: Int?, message: String?, kill: Bool = true, fenced: Bool = false) {
        guard var run = runs[key], !run.ended else { return }
        if run.pgid > 1 || run.handle != nil {
            if kill { backend.kill(run) }
            backend.release(run)
        }
        run.ended = true
        run.fenced = fenced
        run.exitStatus = status
        run.message = message
        runs[key] = run
        logger.notice("\(key) ended: \(message ?? "exit status 0")", metadata: metadata(run.job, run.attempt))
    }

    /// Kills every run, each ended as fenced (the daemon requeues its job rather than failing it).
    func fenceAll(_ message: String) {
        for key in runs.keys where runs[key]!.isRunning { end(key, status: nil, message: message, fenced: true) }
    }

    /// The journal fields of a run's log lines.
    func metadata(_ job: String, _ attempt: Int) -> Logger.Metadata {
        ["job_id": "\(job)", "attempt": "\(attempt)", "datacenter": "\(options.datacenter)", "agent": "\(options.name)"]
    }

    // MARK: - Reports

    /// Sends every report owed, pipelined (one write; the answers come back in order), and a
    /// heartbeat when one is due.
    func report(_ session: Int, _ c: VarlinkConnection) {
        let now = monotonicSeconds()
        enum Sent { case started(String), ended(String), heartbeat }
        var frames: [UInt8] = []
        var sent: [Sent] = []
        do {
            // A run whose end was reported is a tombstone, no longer in `runs`: an ended run here owes its end.
            let owed = runs.filter { !$0.value.startReported || $0.value.ended }.keys.sorted()
            for key in owed {
                let r = runs[key]!
                if !r.startReported {
                    frames += VarlinkCall(method: AgentInterface.Started.name, parameters: AgentInterface.Started.Parameters(
                        agent: options.name, session: session, job: r.job, attempt: r.attempt, siteID: r.siteID ?? "pgid \(r.pgid)",
                        output: backend.output(job: r.job, attempt: r.attempt), limits: r.limits, epoch: epoch).jsonObject).framed
                    sent.append(.started(key))
                }
                if r.ended {
                    frames += VarlinkCall(method: AgentInterface.Ended.name, parameters: AgentInterface.Ended.Parameters(
                        agent: options.name, session: session, job: r.job, attempt: r.attempt, succeeded: r.exitStatus == 0,
                        exitStatus: r.exitStatus, message: r.message, fenced: r.fenced ? true : nil, epoch: epoch).jsonObject).framed
                    sent.append(.ended(key))
                }
            }
            if now - lastHeartbeat >= fence.timeouts.reportInterval {
                frames += VarlinkCall(method: AgentInterface.Heartbeat.name,
                                      parameters: AgentInterface.Heartbeat.Parameters(agent: options.name, session: session,
                                                                                      epoch: epoch).jsonObject).framed
                sent.append(.heartbeat)
                lastHeartbeat = now
            }
            guard !sent.isEmpty else { return }
            var done: [String] = []
            defer {
                // Reported (accepted, repeated or stale alike): a tombstone for a day, so a lease of
                // the same run arriving late is never started again. Written before runs.json
                // drops the run: a crash in between reports the end again ("repeated").
                let time = Date().timeIntervalSince1970
                do {
                    try AgentState.appendTombstones(done, at: time, to: options.stateDirectory)
                    for key in done {
                        if let run = runs[key] { backend.reported(run) }
                        runs[key] = nil
                        tombstones[key] = time
                    }
                } catch {
                    logger.error("cannot record reported ends: \(error)")
                }
            }
            try c.send(frames)
            for s in sent {
                let reply = try c.receive()
                if let error = reply.error { throw error }
                fence.heard(at: now)
                writeContact()
                switch s {
                case .started(let key):
                    runs[key]?.startReported = true
                    if reply.parameters["action"] == .string("kill") { end(key, status: nil, message: "killed: the daemon said so") }
                case .ended(let key):
                    done.append(key)
                case .heartbeat:
                    break
                }
            }
        } catch let e as VarlinkError where e.name == SchedulerInterface.AgentRefused.name {
            let reason = e.parameters["reason"]?.stringValue ?? "refused"
            logger.error("the daemon refused this agent: \(reason)")
            if reason.contains("lost") {
                fenceAll("killed: agent declared lost")
            }
            disconnect(reason)
        } catch {
            disconnect("\(error)")
        }
    }

    func save() {
        do { saved = try AgentState.save(runs, to: options.stateDirectory, unless: saved) } catch {
            logger.error("cannot save the agent's state: \(error)")
        }
    }
}
