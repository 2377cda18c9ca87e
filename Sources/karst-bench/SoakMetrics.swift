import Synchronization

/// The calls a soak makes, for counting and latency.
enum SoakCall: Int, CaseIterable, Sendable {
    case submit, submitBatch, dryRun, cancel, hold, release, complete, get, list, listSummaries, watch
    case reload, drain, resume, setOffline, stats, topology

    var name: String {
        switch self {
        case .submit: "Submit"
        case .submitBatch: "SubmitBatch"
        case .dryRun: "Submit(dryRun)"
        case .cancel: "Cancel"
        case .hold: "Hold"
        case .release: "Release"
        case .complete: "Complete"
        case .get: "Get"
        case .list: "List"
        case .listSummaries: "ListSummaries"
        case .watch: "Watch"
        case .reload: "Admin.Reload"
        case .drain: "Admin.Drain"
        case .resume: "Admin.Resume"
        case .setOffline: "Admin.SetOffline"
        case .stats: "Admin.Stats"
        case .topology: "Admin.Topology"
        }
    }
}

/// Outcome counts and latencies of every call the workers make, and RSS samples of the daemon.
final class SoakMetrics: Sendable {
    /// One answered call: when (seconds into the run), which, how long.
    struct Latency: Sendable {
        var at: Float
        var call: SoakCall
        var seconds: Float
    }

    /// One VmRSS reading: when (seconds into the run), bytes, and whether it was the last
    /// before a kill.
    struct RSS: Sendable {
        var at: Double
        var bytes: Int
        /// RssAnon: the heap's share.
        var anon: Int
        var beforeKill: Bool
    }

    struct Contents: Sendable {
        /// Acknowledged (a success reply), per call.
        var acknowledged: [SoakCall: Int] = [:]
        /// Answered with an error, per call and error name.
        var refused: [String: Int] = [:]
        /// No reply: the daemon died with the call in flight.
        var lost: [SoakCall: Int] = [:]
        var latencies: [Latency] = []
        var rss: [RSS] = []
        var watchEvents = 0
        var watchSessions = 0
        var slowConsumer = 0
    }

    let contents = Mutex(Contents())
    /// Calls sent and not yet answered, across the workers: the controller prefers to kill
    /// while there are some.
    let inFlight = Atomic<Int>(0)
    let started: Double

    init(started: Double) { self.started = started }

    func acknowledged(_ call: SoakCall, sentAt: Double) {
        let now = monotonicSeconds()
        contents.withLock {
            $0.acknowledged[call, default: 0] += 1
            $0.latencies.append(Latency(at: Float(sentAt - started), call: call, seconds: Float(now - sentAt)))
        }
    }

    func refused(_ call: SoakCall, _ error: String) {
        contents.withLock { $0.refused["\(call.name): \(error)", default: 0] += 1 }
    }

    func lost(_ call: SoakCall) {
        contents.withLock { $0.lost[call, default: 0] += 1 }
    }

    func rss(_ sample: (rss: Int, anon: Int), beforeKill: Bool) {
        let at = monotonicSeconds() - started
        contents.withLock { $0.rss.append(RSS(at: at, bytes: sample.rss, anon: sample.anon, beforeKill: beforeKill)) }
    }

    func watch(events: Int = 0, session: Bool = false, slow: Bool = false) {
        contents.withLock {
            $0.watchEvents += events
            if session { $0.watchSessions += 1 }
            if slow { $0.slowConsumer += 1 }
        }
    }
}
