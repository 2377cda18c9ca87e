/// Where a job's latest run on a site agent ran: the agent, the site's id for it, where its
/// output is, and the limits it ran under, as the agent reported them when it started. Kept
/// with the job after the run ended (so `karstctl get` still says where the output is), and
/// replaced by the next run's.
///
/// Boxed: a job table of a million rows pays one pointer for the jobs that have none.
public final class RunPlace: Hashable, Sendable, CustomStringConvertible {
    public let agent: String
    /// The attempt the run was.
    public let attempt: Int
    public let siteID: String
    public let output: String?
    public let limits: String?

    public init(agent: String, attempt: Int, siteID: String, output: String? = nil, limits: String? = nil) {
        self.agent = agent
        self.attempt = attempt
        self.siteID = siteID
        self.output = output
        self.limits = limits
    }

    public static func == (a: RunPlace, b: RunPlace) -> Bool {
        a.agent == b.agent && a.attempt == b.attempt && a.siteID == b.siteID && a.output == b.output && a.limits == b.limits
    }

    public func hash(into h: inout Hasher) {
        h.combine(agent)
        h.combine(attempt)
    }

    public var description: String { "attempt \(attempt) as \(siteID) on \(agent)" }
}
