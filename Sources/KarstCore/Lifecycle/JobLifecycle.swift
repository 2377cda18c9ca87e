/// The job state machine. `on(_:in:)` says which state a trigger leads to and what the caller must
/// do about it; it performs nothing itself. Everything that changes a job's state goes through it,
/// so an impossible transition is one `InvalidTransition` error, never a corrupt job.
///
/// ```
///            hold              place
///  held ◀──────────── pending ─────────▶ running ──succeed──▶ succeeded
///   │    release ───▶   ▲  ▲                │ │
///   │                   │  └──requeue/retry─┘ └─fail (no retries left)─▶ failed
///   └──cancel──▶ cancelled ◀──cancel── (pending, held, running)
///   pending, held ──abandon (a dependency failed)──▶ failed
///   running ──stop (a site agent's run)──▶ stopping ──cancel, succeed, fail, requeue──▶ as from
///   running, once the agent confirms the end: capacity is held until then
/// ```
public enum JobLifecycle {
    /// What happens to a job.
    public enum Trigger: Hashable, Sendable {
        case place
        case hold
        case release
        case cancel
        case succeed
        /// A run failed; `retry` says whether retries remain.
        case fail(retry: Bool)
        /// Taken off its site (preempted, or the site went offline); back to the queue.
        case requeue
        /// Given up before it ran: a job it depends on failed or was cancelled.
        case abandon
        /// A site agent's run is asked to stop; the end comes when the agent confirms it.
        case stop
    }

    /// What the caller must do for a transition, in order.
    public enum Action: Hashable, Sendable {
        case enqueue
        case dequeue
        case allocate
        case releaseCapacity
        case armTimer
        case disarmTimer
    }

    /// The next state and actions, or nil when `trigger` is not allowed in `state`.
    public static func on(_ trigger: Trigger, in state: JobState) -> (JobState, [Action])? {
        switch (state, trigger) {
        case (.pending, .place): (.running, [.dequeue, .allocate, .armTimer])
        case (.pending, .hold): (.held, [.dequeue])
        case (.held, .release): (.pending, [.enqueue])
        case (.pending, .cancel): (.cancelled, [.dequeue])
        case (.held, .cancel): (.cancelled, [])
        case (.running, .cancel): (.cancelled, [.releaseCapacity, .disarmTimer])
        case (.running, .succeed): (.succeeded, [.releaseCapacity, .disarmTimer])
        case (.running, .fail(retry: true)): (.pending, [.releaseCapacity, .disarmTimer, .enqueue])
        case (.running, .fail(retry: false)): (.failed, [.releaseCapacity, .disarmTimer])
        case (.running, .requeue): (.pending, [.releaseCapacity, .disarmTimer, .enqueue])
        case (.running, .stop): (.stopping, [.disarmTimer])
        case (.stopping, .cancel): (.cancelled, [.releaseCapacity])
        case (.stopping, .succeed): (.succeeded, [.releaseCapacity])
        case (.stopping, .fail(retry: true)): (.pending, [.releaseCapacity, .enqueue])
        case (.stopping, .fail(retry: false)): (.failed, [.releaseCapacity])
        case (.stopping, .requeue): (.pending, [.releaseCapacity, .enqueue])
        case (.pending, .abandon): (.failed, [.dequeue])
        case (.held, .abandon): (.failed, [])
        default: nil
        }
    }
}
