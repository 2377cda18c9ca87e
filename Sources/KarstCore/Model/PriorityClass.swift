/// A priority class. Classes are strictly ordered: every pending job of a higher class is examined
/// before any job of a lower one. Inside a class, jobs rank by `priority` plus linear aging.
public struct PriorityClass: Hashable, Sendable {
    /// `critical`, `online`, `batch`, `best-effort`, or an operator's own.
    public var id: String
    /// Orders classes: higher first. Unique across classes.
    public var basePriority: Int
    /// Priority points a waiting job gains per hour; 0 turns aging off.
    public var agingPerHour: Double
    /// Whether jobs of this class may preempt lower classes' preemptible jobs.
    public var canPreempt: Bool
    /// Whether jobs of this class are preemptible unless their spec says otherwise.
    public var preemptibleByDefault: Bool
    /// Latency budget (RTT from the job's origin) used when a job sets no `maxLatencyMs`.
    public var defaultLatencyMs: Double

    public init(id: String, basePriority: Int, agingPerHour: Double, canPreempt: Bool,
                preemptibleByDefault: Bool, defaultLatencyMs: Double) {
        self.id = id
        self.basePriority = basePriority
        self.agingPerHour = agingPerHour
        self.canPreempt = canPreempt
        self.preemptibleByDefault = preemptibleByDefault
        self.defaultLatencyMs = defaultLatencyMs
    }
}
