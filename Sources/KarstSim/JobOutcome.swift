import KarstCore

/// What happened to one job in a replay, compactly (a million of them fit in tens of MB).
public struct JobOutcome: Hashable, Sendable {
    /// Index into `Topology.classes` and `Topology.regions`, and into `ReplayResult.tenants`.
    public var classIndex: Int16
    public var originIndex: Int16
    public var tenantIndex: Int32
    /// The state at the end of the replay.
    public var state: JobState
    /// Microseconds since the epoch; `-1` for never.
    public var submittedAt: Int64
    public var firstStartAt: Int64 = -1
    public var finishedAt: Int64 = -1
    public var deadline: Int64 = -1
    /// The end of its flexibility window (`notAfter`, the latest start), or −1.
    public var latestStart: Int64 = -1
    /// The data centre of its first run, or −1.
    public var firstDatacenter: Int16 = -1
    /// Runs started.
    public var runs: Int32 = 0

    /// Seconds from submission to first start; nil if it never started.
    public var waitSeconds: Double? {
        firstStartAt < 0 ? nil : Double(firstStartAt - submittedAt) / 1_000_000
    }

    /// Whether it started on time: by the end of its window if it has one (time-shifted work
    /// waits on purpose), else within `promise` seconds; nil when neither applies.
    public func startedOnTime(promise: Double?) -> Bool? {
        if latestStart >= 0 { return firstStartAt >= 0 && firstStartAt <= latestStart }
        guard let promise else { return nil }
        return waitSeconds.map { $0 <= promise } ?? false
    }

    /// Whether it had a deadline and finished (successfully) by it.
    public var metDeadline: Bool? {
        guard deadline >= 0 else { return nil }
        return state == .succeeded && finishedAt >= 0 && finishedAt <= deadline
    }
}
