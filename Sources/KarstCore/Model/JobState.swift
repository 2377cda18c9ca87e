/// Where a job is in its life. `succeeded`, `failed` and `cancelled` are terminal.
public enum JobState: String, Hashable, Sendable, CaseIterable {
    case pending
    case held
    case running
    case succeeded
    case failed
    case cancelled

    /// True for states a job never leaves.
    public var isTerminal: Bool {
        switch self {
        case .succeeded, .failed, .cancelled: true
        case .pending, .held, .running: false
        }
    }
}
