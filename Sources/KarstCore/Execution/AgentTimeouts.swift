/// How the daemon and its agents judge each other's silence.
///
/// An agent reports every `reportInterval`. The daemon gives it no new leases once it has been
/// silent for `suspect`, and declares it lost (its runs requeued as new attempts) after `lost`.
/// An agent that has not reached the daemon for `fence`, by its own clock, kills its own runs.
/// Because `fence` + a margin ≤ `lost`, a lost agent's runs are dead before they are requeued:
/// a job never has two live attempts, whoever was cut off from whom.
public struct AgentTimeouts: Hashable, Sendable {
    public var reportInterval: Double
    public var suspect: Double
    public var fence: Double
    public var lost: Double

    public init(reportInterval: Double = 1, suspect: Double = 3, fence: Double = 10, lost: Double = 15) {
        self.reportInterval = reportInterval
        self.suspect = suspect
        self.fence = fence
        self.lost = lost
    }

    /// The slack between an agent fencing itself and the daemon declaring it lost: two report
    /// intervals (clock drift over the interval, and the report in flight when it was cut off).
    public var margin: Double { 2 * reportInterval }

    /// Why these timeouts do not fit together, or nil: they must be finite, and
    /// `reportInterval` < `suspect` < `fence`, `fence` + `margin` ≤ `lost`.
    public var problem: String? {
        for (name, v) in [("report interval", reportInterval), ("suspect", suspect), ("fence", fence), ("lost", lost)] {
            guard v.isFinite, v > 0 else {
                return "the \(name) timeout must be a positive number of seconds, not \(formatNumber(v))"
            }
        }
        guard reportInterval < suspect else {
            return "suspect (\(formatNumber(suspect)) s) must be longer than the report interval (\(formatNumber(reportInterval)) s)"
        }
        guard suspect < fence else {
            return "fence (\(formatNumber(fence)) s) must be longer than suspect (\(formatNumber(suspect)) s)"
        }
        guard fence + margin <= lost else {
            return "lost (\(formatNumber(lost)) s) must be at least fence (\(formatNumber(fence)) s) "
                + "plus two report intervals (\(formatNumber(margin)) s)"
        }
        return nil
    }
}

/// An agent's side of the fence: when it last heard from the daemon, by its own clock, and
/// whether it must now kill its runs.
public struct AgentFence: Hashable, Sendable {
    public let timeouts: AgentTimeouts
    /// The agent's clock (monotonic seconds) when the daemon last answered it.
    public private(set) var lastContact: Double

    public init(timeouts: AgentTimeouts, now: Double) {
        self.timeouts = timeouts
        lastContact = now
    }

    /// The daemon answered at `now`.
    public mutating func heard(at now: Double) { lastContact = max(lastContact, now) }

    /// True once the daemon has been silent for `fence`: the agent must stop every run it has.
    public func mustFence(at now: Double) -> Bool { now - lastContact >= timeouts.fence }
}
