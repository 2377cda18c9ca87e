import KarstCore
import Testing

/// The property the timeouts exist for: whatever the network does, a job never has two live
/// attempts, and every job ends exactly once. A seeded world of agents with drifting clocks and
/// connections that drop for up to 40 s runs jobs through an `AgentBook`; agents obey their
/// `AgentFence`; the daemon requeues what it declares lost.
@Suite struct FencingPropertyTests {
    @Test(arguments: 1...20)
    func aJobNeverHasTwoLiveAttempts(seed: UInt64) {
        let world = FencingWorld(seed: seed, timeouts: AgentTimeouts(reportInterval: 1, suspect: 3, fence: 10, lost: 15))
        let result = world.run()
        #expect(result.overlaps.isEmpty, "seed \(seed): \(result.overlaps.prefix(3))")
        #expect(result.unfinished.isEmpty, "seed \(seed): jobs never finished: \(result.unfinished.prefix(5))")
        #expect(result.finishedTwice.isEmpty, "seed \(seed): jobs finished twice: \(result.finishedTwice.prefix(5))")
        #expect(result.invariantProblem == nil, "seed \(seed): \(result.invariantProblem ?? "")")
        #expect(result.lostAgents > 0, "seed \(seed): the world should lose agents sometimes")
    }

    /// The same world with a fence longer than the loss (timeouts validation refuses these):
    /// double runs do happen, so the property above is not vacuous.
    @Test func aFenceLongerThanTheLossRunsJobsTwice() {
        let bad = AgentTimeouts(reportInterval: 1, suspect: 3, fence: 30, lost: 15)
        #expect(bad.problem != nil)
        let overlaps = (1...20).reduce(0) { $0 + FencingWorld(seed: UInt64($1), timeouts: bad).run().overlaps.count }
        #expect(overlaps > 0)
    }
}

/// A deterministic little world: one data centre, three agents, a daemon, jobs of 5–60 s.
struct FencingWorld {
    struct Agent {
        var id: AgentID
        var drift: Double
        var linkUp = true
        var linkChangesAt = 0.0
        var session: UInt64?
        var fence: AgentFence
        var lastReport = -1.0
        /// Processes actually running: job → (run, end time).
        var processes: [JobID: (run: RunID, endsAt: Double)] = [:]
        var unsentEnds: [(RunID, AgentBook.RunOutcome)] = []
        /// Runs it ended: never started again (a run is identified by job and attempt).
        var endedRuns: Set<RunID> = []
        /// Leases to start once its owed reports are sent (after a reconnect).
        var toStart: [RunID] = []
    }

    let timeouts: AgentTimeouts
    var random: SeededRandom
    var book: AgentBook
    var agents: [Agent]
    var attempts: [JobID: Int] = [:]
    var pending: [JobID] = []
    var finished: [JobID: Int] = [:]
    var duration: [JobID: Double] = [:]
    var overlaps: [String] = []
    var lostAgents = 0
    let t0 = Instant(rfc3339: "2026-07-01T00:00:00Z")!

    init(seed: UInt64, timeouts: AgentTimeouts) {
        self.timeouts = timeouts
        random = SeededRandom(seed: seed)
        book = AgentBook(timeouts: timeouts)
        agents = []
        for i in 0..<3 {
            let drift = (random.unit() - 0.5) * 0.01  // ±0.5 %
            agents.append(Agent(id: AgentID("agent-\(i)"), drift: drift, fence: AgentFence(timeouts: timeouts, now: 0)))
        }
        for n in 1...40 {
            let job = JobID(UInt64(n))
            pending.append(job)
            attempts[job] = 0
            duration[job] = 5 + random.unit() * 55
        }
    }

    struct Result {
        var overlaps: [String]
        var unfinished: [JobID]
        var finishedTwice: [JobID]
        var invariantProblem: String?
        var lostAgents: Int
    }

    consuming func run() -> Result {
        let dt = 0.25
        var now = 0.0
        // Partitions for 900 s, then a calm hour for everything to finish.
        while now < 4500 {
            step(now: now, partitions: now < 900)
            now += dt
        }
        let unfinished = attempts.keys.filter { finished[$0] == nil }.sorted()
        return Result(overlaps: overlaps, unfinished: unfinished, finishedTwice: finished.filter { $0.value > 1 }.map(\.key),
                      invariantProblem: book.invariantViolation(), lostAgents: lostAgents)
    }

    mutating func step(now: Double, partitions: Bool) {
        let instant = t0.advanced(bySeconds: now)
        for i in agents.indices { agentStep(i, now: now, instant: instant, partitions: partitions) }
        for change in book.tick(now: instant) {
            if case .lost(_, let runs) = change {
                lostAgents += 1
                for lease in runs { pending.append(lease.run.job) }
            }
        }
        // Lease what waits, and push it to the agent if its connection is up.
        var still: [JobID] = []
        for job in pending {
            let run = RunID(job: job, attempt: attempts[job]! + 1)
            guard let agent = book.lease(run, in: "dc", now: instant) else { still.append(job); continue }
            attempts[job] = run.attempt
            if let i = agents.firstIndex(where: { $0.id == agent }), agents[i].linkUp, agents[i].session != nil {
                start(i, run, now: now, instant: instant)
            }
        }
        pending = still
        checkOverlaps(now: now)
    }

    mutating func agentStep(_ i: Int, now: Double, instant: Instant, partitions: Bool) {
        let clock = now * (1 + agents[i].drift)
        // The link: up, or down for 1–40 s.
        if now >= agents[i].linkChangesAt {
            if agents[i].linkUp, partitions, random.unit() < 0.01 {
                agents[i].linkUp = false
                agents[i].session = nil  // the connection broke
                agents[i].linkChangesAt = now + 1 + random.unit() * 39
            } else if !agents[i].linkUp {
                agents[i].linkUp = true
            }
        }
        // Processes that end by themselves.
        for (job, p) in agents[i].processes where p.endsAt <= now {
            agents[i].processes[job] = nil
            agents[i].endedRuns.insert(p.run)
            agents[i].unsentEnds.append((p.run, .init(succeeded: true, exitStatus: 0)))
        }
        guard agents[i].linkUp else {
            if agents[i].fence.mustFence(at: clock) { kill(i, message: "fenced") }
            return
        }
        if agents[i].session == nil {
            guard let (session, leases) = try? book.connect(agents[i].id, datacenter: "dc", now: instant) else { return }
            agents[i].session = session
            agents[i].fence.heard(at: clock)
            let current = Set(leases.map(\.run))
            for (job, p) in agents[i].processes where !current.contains(p.run) {
                agents[i].processes[job] = nil
                agents[i].endedRuns.insert(p.run)
                agents[i].unsentEnds.append((p.run, .init(succeeded: false, message: "not leased")))
            }
            agents[i].toStart = leases.filter { agents[i].processes[$0.run.job] == nil && $0.stopReason == nil }.map(\.run)
        }
        guard let session = agents[i].session else { return }
        do {
            if now - agents[i].lastReport >= timeouts.reportInterval {
                try book.heard(agents[i].id, session: session, now: instant)
                agents[i].lastReport = now
            }
            let ends = agents[i].unsentEnds
            agents[i].unsentEnds = []
            for (run, outcome) in ends {
                if case .accepted = try book.ended(agents[i].id, session: session, run: run, outcome: outcome, now: instant) {
                    if outcome.succeeded { finished[run.job, default: 0] += 1 } else { pending.append(run.job) }
                }
            }
            agents[i].fence.heard(at: clock)
            let toStart = agents[i].toStart
            agents[i].toStart = []
            for run in toStart { start(i, run, now: now, instant: instant) }
        } catch {
            // Lost (or superseded): kill everything and connect again.
            kill(i, message: "\(error)")
            agents[i].session = nil
        }
    }

    mutating func start(_ i: Int, _ run: RunID, now: Double, instant: Instant) {
        guard !agents[i].endedRuns.contains(run), let session = agents[i].session,
              (try? book.started(agents[i].id, session: session, run: run, siteID: "pid", now: instant)) == .run else { return }
        agents[i].processes[run.job] = (run, now + duration[run.job]!)
    }

    mutating func kill(_ i: Int, message: String) {
        for (_, p) in agents[i].processes {
            agents[i].endedRuns.insert(p.run)
            agents[i].unsentEnds.append((p.run, .init(succeeded: false, message: message)))
        }
        agents[i].processes = [:]
    }

    mutating func checkOverlaps(now: Double) {
        var seen: [JobID: RunID] = [:]
        for agent in agents {
            for (job, p) in agent.processes {
                if let other = seen[job] { overlaps.append("\(job) at \(now) s: \(other) and \(p.run)") }
                seen[job] = p.run
            }
        }
    }
}
