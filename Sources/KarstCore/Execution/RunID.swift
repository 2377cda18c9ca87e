/// One placement of a job, the unit an agent is leased: the job and its attempt (1-based; a
/// requeued job's next placement is the next attempt).
public struct RunID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var job: JobID
    public var attempt: Int

    public init(job: JobID, attempt: Int) {
        self.job = job
        self.attempt = attempt
    }

    public var description: String { "\(job)#\(attempt)" }

    public static func < (a: RunID, b: RunID) -> Bool { (a.job, a.attempt) < (b.job, b.attempt) }
}

/// A site agent's name, unique within the hub (by default its host name).
public struct AgentID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var name: String

    public init(_ name: String) { self.name = name }

    public var description: String { name }

    public static func < (a: AgentID, b: AgentID) -> Bool { a.name < b.name }
}
