import KarstCore

/// One job of a workload as the replay sees it: when it arrives, what it asks for, and how its
/// runs end (the trace's record of it, which the modelled executor plays back).
public struct TraceJob: Hashable, Sendable {
    public var submitAt: Instant
    public var spec: JobSpec
    /// Runs that fail (after their full duration) before one succeeds; `Int.max`: every run fails.
    public var failedRuns: Int
    /// The user cancels the job this long after submission (whatever state it is in then).
    public var cancelAfterSeconds: Double?

    public init(submitAt: Instant, spec: JobSpec, failedRuns: Int = 0, cancelAfterSeconds: Double? = nil) {
        self.submitAt = submitAt
        self.spec = spec
        self.failedRuns = failedRuns
        self.cancelAfterSeconds = cancelAfterSeconds
    }
}
