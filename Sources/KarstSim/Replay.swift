import HeapModule
import KarstCore
import KarstTrace

/// Replays a workload through the real scheduler on a virtual clock: a discrete-event loop that
/// jumps to the next arrival, modelled completion, failing run, cancellation, opening window,
/// scripted site event or (while work waits) whole hour, and at each submits, completes, applies
/// site events and runs one scheduling pass — the daemon's engine cycle without the waiting.
/// Deterministic: the same trace, topology and events give the same result.
public struct Replay: Sendable {
    public var topology: Topology
    /// Scripted site events, applied in time order (before the pass at their instant).
    public var events: [SiteEvent]
    /// Seconds of simulated time between scheduling passes; 0 (exact) runs one at every instant
    /// something happens, as the daemon's engine does. A larger value trades fidelity (starts are
    /// delayed to the next pass) for speed on deep queues.
    public var passInterval: Double

    public init(topology: Topology, events: [SiteEvent] = [], passInterval: Double = 0) {
        self.topology = topology
        self.passInterval = passInterval
        self.events = events.enumerated().sorted { ($0.element.at, $0.offset) < ($1.element.at, $1.offset) }
            .map(\.element)
    }

    /// Where a replay is, for a progress display.
    public struct Progress: Sendable {
        public var now: Instant
        public var jobsDone: Int
        public var jobsTotal: Int
        public var events: Int
    }

    /// Runs the replay. `progress` is called every `progressEvery` steps and once at the end;
    /// `final` is shown the scheduler's state as the replay leaves it (every job, as the daemon
    /// would answer for it).
    public func run(_ trace: [TraceJob], progressEvery: Int = 20_000,
                    progress: ((Progress) -> Void)? = nil,
                    final: ((borrowing SchedulerState) -> Void)? = nil) -> ReplayResult {
        var state = SchedulerState(topology: topology)
        let first = trace.first?.submitAt ?? events.first?.at ?? Instant(microseconds: 0)
        let origin = Instant(microseconds: first.microseconds - ((first.microseconds % 3_600_000_000) + 3_600_000_000) % 3_600_000_000)
        let base = state.nextJobID.rawValue
        var recorder = ReplayRecorder(topology: topology, origin: origin, poolRefs: state.poolRefs, firstJob: base)
        var clock = ReplayClock(trace: trace, firstJob: base)
        var nextArrival = 0, nextEvent = 0, steps = 0, done = 0
        var last = origin
        var lastPass: Instant? = nil
        var passOwed = false
        while let now = clock.next(arrival: nextArrival < trace.count ? trace[nextArrival].submitAt : nil,
                                   completion: state.nextCompletion,
                                   site: nextEvent < events.count ? events[nextEvent].at : nil,
                                   pass: passOwed ? lastPass?.advanced(bySeconds: passInterval) : nil,
                                   waiting: state.pendingCount > 0, after: last) {
            recorder.advance(to: now, allocated: state.allocated)
            var out: [Event] = []
            while nextEvent < events.count, events[nextEvent].at <= now {
                out += apply(events[nextEvent], to: &state, now: now, recorder: &recorder)
                nextEvent += 1
            }
            while nextArrival < trace.count, trace[nextArrival].submitAt <= now {
                let job = trace[nextArrival]
                do {
                    let e = try state.submit(job.spec, now: job.submitAt)
                    out.append(e)
                    clock.admitted(e.job.id, job)
                } catch {
                    recorder.reject(job, error)
                }
                nextArrival += 1
            }
            for (id, attempt) in clock.failuresDue(atOrBefore: now) {
                guard let job = state.job(id), job.state == .running, job.attempts == attempt,
                      let e = try? state.complete(id, succeeded: false, message: "run failed (trace)", now: now)
                else { continue }
                if e.kind == .requeued { recorder.result.retries += 1 }
                out.append(e)
            }
            for id in clock.cancellationsDue(atOrBefore: now) {
                guard let job = state.job(id), !job.state.isTerminal, let e = try? state.cancel(id, now: now) else { continue }
                out.append(e)
            }
            out += state.advance(to: now)
            if let lastPass, now < lastPass.advanced(bySeconds: passInterval) {
                passOwed = true
            } else {
                let plan = state.plan(now: now)
                out += state.apply(plan)
                clock.wake(for: plan)
                recorder.result.passes += 1
                lastPass = now
                passOwed = false
            }
            for e in out {
                recorder.observe(e)
                if e.kind == .placed { clock.placed(e.job) }
                if e.job.state.isTerminal && e.kind != .submitted { done += 1 }
            }
            last = now
            steps += 1
            if let progress, steps % progressEvery == 0 {
                progress(Progress(now: now, jobsDone: done, jobsTotal: trace.count, events: recorder.result.coreEvents))
            }
        }
        progress?(Progress(now: last, jobsDone: done, jobsTotal: trace.count, events: recorder.result.coreEvents))
        final?(state)
        return recorder.finish(jobs: state)
    }

    private func apply(_ event: SiteEvent, to state: inout SchedulerState, now: Instant,
                       recorder: inout ReplayRecorder) -> [Event] {
        recorder.result.siteEvents.append(event)
        switch event.action {
        case .offline:
            guard let (_, requeued) = try? state.setOffline(event.datacenter, now: now) else { return [] }
            recorder.result.outageRequeues += requeued.count
            return requeued
        case .drain:
            _ = try? state.drain(event.datacenter)
        case .resume:
            _ = try? state.resume(event.datacenter)
        }
        return []
    }
}

/// The replay's own timers beside the core's: runs that the trace says fail, cancellations,
/// windows that open, and hourly passes while work waits.
struct ReplayClock {
    private struct Due: Comparable {
        var at: Int64
        var id: UInt64
        var attempt: Int
        static func < (a: Due, b: Due) -> Bool { (a.at, a.id, a.attempt) < (b.at, b.id, b.attempt) }
    }

    private var failures = Heap<Due>()
    private var cancellations = Heap<Due>()
    private var wakes = Heap<Int64>()
    /// The instants in `wakes`, so that a pass naming the same one again adds nothing.
    private var wakeSet = Set<Int64>()
    /// Runs to fail per job number − `firstJob` (`Int.max`: all).
    private var failedRuns: [Int] = []
    private let firstJob: Int
    /// Hourly passes continue while work waits until this instant, or while anything else is due.
    private let windowsEnd: Int64

    init(trace: [TraceJob], firstJob: UInt64) {
        self.firstJob = Int(firstJob)
        windowsEnd = trace.reduce(Int64.min) { acc, j in
            max(acc, j.spec.notAfter?.microseconds ?? acc, j.spec.notBefore?.microseconds ?? acc)
        }
    }

    /// The next instant something happens after `after`, or nil when nothing will.
    mutating func next(arrival: Instant?, completion: Instant?, site: Instant?, pass: Instant?, waiting: Bool,
                       after: Instant) -> Instant? {
        while let w = wakes.min, w <= after.microseconds { wakeSet.remove(wakes.removeMin()) }
        var t = [arrival?.microseconds, completion?.microseconds, site?.microseconds, pass?.microseconds,
                 failures.min?.at, cancellations.min?.at, wakes.min].compactMap { $0 }.min()
        if waiting {
            let hour = (after.microseconds / 3_600_000_000 + 1) * 3_600_000_000
            if t != nil || hour <= windowsEnd { t = min(t ?? hour, hour) }
        }
        return t.map { Instant(microseconds: max($0, after.microseconds)) }
    }

    /// Wakes when the pass says the clock alone next changes a waiting job's lot (a window
    /// opening, a time shift ending: `Plan.wakeAt`).
    mutating func wake(for plan: Plan) {
        if let t = plan.wakeAt { wake(at: t) }
    }

    mutating func admitted(_ id: JobID, _ job: TraceJob) {
        let n = Int(id.rawValue) - firstJob
        if failedRuns.count <= n { failedRuns += Array(repeating: 0, count: n + 1 - failedRuns.count) }
        failedRuns[n] = job.failedRuns
        if let c = job.cancelAfterSeconds {
            cancellations.insert(Due(at: job.submitAt.advanced(bySeconds: c).microseconds, id: id.rawValue, attempt: 0))
        }
        if let nb = job.spec.notBefore { wake(at: nb) }
    }

    private mutating func wake(at t: Instant) {
        if wakeSet.insert(t.microseconds).inserted { wakes.insert(t.microseconds) }
    }

    /// A run started: if the trace says it fails, arm its failure at its modelled end.
    mutating func placed(_ job: Job) {
        let n = Int(job.id.rawValue) - firstJob
        guard n >= 0, n < failedRuns.count, job.attempts <= failedRuns[n], let start = job.startedAt,
              let d = job.spec.durationSeconds else { return }
        failures.insert(Due(at: start.advanced(bySeconds: d).microseconds, id: job.id.rawValue, attempt: job.attempts))
    }

    mutating func failuresDue(atOrBefore now: Instant) -> [(JobID, Int)] {
        var out: [(JobID, Int)] = []
        while let f = failures.min, f.at <= now.microseconds {
            _ = failures.popMin()
            out.append((JobID(f.id), f.attempt))
        }
        return out
    }

    mutating func cancellationsDue(atOrBefore now: Instant) -> [JobID] {
        var out: [JobID] = []
        while let c = cancellations.min, c.at <= now.microseconds {
            _ = cancellations.popMin()
            out.append(JobID(c.id))
        }
        return out
    }
}
