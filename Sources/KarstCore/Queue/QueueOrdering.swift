/// How jobs rank inside a priority class: priority plus linear aging.
///
/// A job's key is `priority + agingPerSecond · (now − submittedAt)`; higher goes first. Because
/// every waiting job gains the same amount per second, the order only depends on
/// `priority − agingPerSecond · submittedAt`, which never changes while the job waits. The queue
/// stores `rank = agingPerSecond · (submittedAt − epoch) − priority` (lower first) and never
/// re-keys. Ties go to the lower job id, i.e. first come, first served.
public struct QueueOrdering: Hashable, Sendable {
    /// Priority points per second of waiting, per class index.
    public var agingPerSecond: [Double]
    /// Origin of the aging clock; only keeps the numbers small.
    public var epoch: Instant

    public init(agingPerSecond: [Double], epoch: Instant = Instant(microseconds: 1_767_225_600_000_000)) {
        self.agingPerSecond = agingPerSecond
        self.epoch = epoch
    }

    /// The ordering the topology's classes define.
    public init(classes: [PriorityClass]) {
        self.init(agingPerSecond: classes.map { $0.agingPerHour / 3600 })
    }

    /// The time-invariant rank of a job (lower goes first).
    @inline(__always)
    public func rank(priority: Int, submittedAt: Instant, classIndex: Int) -> Double {
        agingPerSecond[classIndex] * epoch.seconds(to: submittedAt) - Double(priority)
    }
}
