/// Something that happened to a job, with the job as it was right after.
///
/// State is the fold of events: the store journals them, `Watch` streams them, the journal logs them.
public struct Event: Hashable, Sendable {
    public var kind: EventKind
    public var at: Instant
    public var job: Job
    /// Extra detail: a failure message, a requeue cause, a reason.
    public var detail: String?

    public init(kind: EventKind, at: Instant, job: Job, detail: String? = nil) {
        self.kind = kind
        self.at = at
        self.job = job
        self.detail = detail
    }
}

/// The kinds of job events, as named in the control protocol.
public enum EventKind: String, Hashable, Sendable, CaseIterable {
    case submitted
    case placed
    case preempted
    case requeued
    case succeeded
    case failed
    case cancelled
    case held
    case released
    /// A site agent reported a run started (the job's `lastRun` says where: site id, output).
    case started
    /// A site agent's run was asked to stop (cancel, offline); it ends when the agent confirms.
    case stopping
    /// A job was still unfinished at its deadline (or finished after it); emitted once per job.
    case deadlineMissed = "deadline-missed"
}
