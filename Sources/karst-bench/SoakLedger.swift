import Synchronization

/// What acknowledged calls oblige the daemon to show for one job.
enum SoakExpectation: Equatable, Sendable {
    /// Submitted or released: waiting, running, or finished by the modelled executor (which only
    /// ever succeeds; every soak job has `maxRetries` 0 and no dependencies).
    case live
    /// Held by an acknowledged `Hold` and not released since.
    case held
    /// Cancelled, or completed by a client: final.
    case final(String)

    var states: Set<String> {
        switch self {
        case .live: ["pending", "running", "succeeded"]
        case .held: ["held"]
        case .final(let s): [s]
        }
    }

    static let finalStates: Set<String> = ["succeeded", "failed", "cancelled"]
}

/// The ledger's record of one job, known by its unique label.
struct SoakJob: Sendable {
    /// How its submission stands.
    enum Submit: Sendable {
        /// Sent, no reply yet.
        case inFlight
        case acknowledged
        /// Answered with an error: must never exist.
        case refused
        /// The connection died before the reply: may exist once, or not at all.
        case lost
        /// Was lost, and a later check found it not applied: must never appear.
        case notApplied
    }

    var batch: Int?
    /// CLOCK_REALTIME seconds when it was sent (a lower bound of its model submit time).
    var sentAt: Double
    var submit = Submit.inFlight
    var id: String?
    var expect = SoakExpectation.live
    /// The effect of a call on this job whose reply never came: decided by the next check.
    var unresolved: SoakExpectation?
    /// Seen by a check (so a later absence can only be retention's pruning).
    var seen = false
    /// Absent after having been seen: pruned; must never come back.
    var pruned = false
    var lastState: String?
    /// From the Watch stream (published only after commit): the id, and a final state.
    var watchedID: String?
    var watchedFinal: String?
}

/// What acknowledged admin calls oblige the daemon to show.
struct SoakAdminLedger: Sendable {
    /// Acknowledged state per data centre ("active" until an acknowledged change), and the
    /// target of a call whose reply never came.
    var datacenters: [String: (state: String, unresolved: String?)] = [:]
    /// The configuration generation, once known; a reload whose reply never came.
    var generation: Int?
    var reloadUnresolved = false
}

/// Every call's outcome that matters to verification, shared by the clients, the watcher, the
/// admin and the checks. A call is recorded as sent before it is written, so nothing the
/// daemon holds can be unknown to the ledger.
final class SoakLedger: Sendable {
    struct Contents: Sendable {
        var jobs: [String: SoakJob] = [:]
        var admin = SoakAdminLedger()
        var violations: [String] = []
        /// Keys of violations already listed, so one fault is listed once, not at every check.
        var reported: Set<String> = []

        /// Lists a violation, unless one with the same `key` has been.
        mutating func report(_ key: String?, _ text: String) {
            if let key, !reported.insert(key).inserted { return }
            violations.append(text)
        }
        /// Labels that appeared on the Watch stream or in a listing without having been sent.
        var strangers = 0
    }

    let contents = Mutex(Contents())

    func sending(_ labels: [String], batch: Int?, at: Double) {
        contents.withLock { c in
            for l in labels { c.jobs[l] = SoakJob(batch: batch, sentAt: at) }
        }
    }

    func submitted(_ label: String, id: String) {
        contents.withLock {
            $0.jobs[label]?.submit = .acknowledged
            $0.jobs[label]?.id = id
        }
    }

    func submit(_ labels: [String], _ outcome: SoakJob.Submit) {
        contents.withLock { c in for l in labels { c.jobs[l]?.submit = outcome } }
    }

    /// A call on the job was acknowledged: its effect is now owed.
    func acknowledged(_ label: String, _ expect: SoakExpectation) {
        contents.withLock { $0.jobs[label]?.expect = expect }
    }

    /// A call on the job got no reply: it may or may not have happened.
    func unresolved(_ label: String, _ expect: SoakExpectation) {
        contents.withLock { $0.jobs[label]?.unresolved = expect }
    }

    /// An event from the Watch stream for the job labelled `label`.
    func watched(label: String?, id: String, state: String) {
        contents.withLock { c in
            guard let label, c.jobs[label] != nil else {
                c.report("stranger:\(id)", "Watch streamed an event for \(id) labelled \(label ?? "nothing"), which no client sent")
                return
            }
            if let known = c.jobs[label]!.watchedID, known != id {
                c.report("watch-id:\(label)", "Watch streamed \(label) as \(known) and as \(id)")
            }
            c.jobs[label]!.watchedID = id
            if SoakExpectation.finalStates.contains(state) {
                if let f = c.jobs[label]!.watchedFinal, f != state {
                    c.report("watch-final:\(label)", "Watch streamed \(label) (\(id)) finishing \(f) and then \(state)")
                }
                c.jobs[label]!.watchedFinal = state
            }
        }
    }

    /// A read (`Get`) of the job: what it shows must already agree with what was acknowledged.
    func read(_ label: String, _ state: String) {
        contents.withLock { c in
            guard let job = c.jobs[label], job.unresolved == nil else { return }
            let allowed = job.expect.states
            if !allowed.contains(state) {
                c.violations.append("Get \(job.id ?? label) read \(state); acknowledged calls require \(allowed.sorted())")
            }
        }
    }

    func violation(_ text: String) {
        contents.withLock { $0.violations.append(text) }
    }

    var violationCount: Int { contents.withLock { $0.violations.count } }
}
