import HeapModule

/// The modelled executor's clock: when each running job is expected to end.
///
/// A min-heap keyed by end time. Cancelling is lazy: a timer whose job has since left `running`,
/// or started again (another attempt), is dropped when it comes due.
struct CompletionTimers: Sendable {
    struct Timer: Comparable, Sendable {
        var due: Instant
        var id: JobID
        var attempt: Int

        static func < (a: Timer, b: Timer) -> Bool { a.due != b.due ? a.due < b.due : a.id < b.id }
    }

    private var heap = Heap<Timer>()

    var count: Int { heap.count }

    mutating func arm(_ id: JobID, attempt: Int, due: Instant) {
        heap.insert(Timer(due: due, id: id, attempt: attempt))
    }

    /// The earliest due time, if any.
    var nextDue: Instant? { heap.min?.due }

    /// Removes and returns the earliest timer due at or before `now`.
    mutating func popDue(atOrBefore now: Instant) -> Timer? {
        guard let top = heap.min, top.due <= now else { return nil }
        return heap.removeMin()
    }
}
