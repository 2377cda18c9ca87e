import KarstCore

/// One job of a workload trace: when it arrives and what it asks for.
public struct TraceJob: Hashable, Sendable {
    public var submitAt: Instant
    public var spec: JobSpec

    public init(submitAt: Instant, spec: JobSpec) {
        self.submitAt = submitAt
        self.spec = spec
    }
}
