/// Where a job is in its life. `succeeded`, `failed` and `cancelled` are terminal.
public enum JobState: String, Hashable, Sendable, CaseIterable {
    case pending
    case held
    case running
    /// Asked to stop (cancelled, or taken off its site) while a site agent runs it: its capacity
    /// stays held until the agent confirms the end, or is declared lost.
    case stopping
    case succeeded
    case failed
    case cancelled

    /// True for states a job never leaves.
    public var isTerminal: Bool {
        switch self {
        case .succeeded, .failed, .cancelled: true
        case .pending, .held, .running, .stopping: false
        }
    }

    /// Running or stopping: the job holds capacity.
    public var holdsCapacity: Bool { self == .running || self == .stopping }
}
