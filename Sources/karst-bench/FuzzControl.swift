import Synchronization

/// What a campaign's threads share: the frame budget, the time limit, the stop flag, and live
/// counts for the progress line.
final class FuzzControl: Sendable {
    private let remaining: Atomic<Int>
    private let stopped = Atomic<Bool>(false)
    /// Frames sent so far, all connections.
    let sent = Atomic<Int>(0)
    let deadline: Double

    init(frames: Int, seconds: Double) {
        remaining = Atomic(frames)
        deadline = fuzzClock() + seconds
    }

    /// Takes one frame from the budget; false once it is spent, the time is up or the campaign
    /// was stopped.
    func claim() -> Bool {
        guard !isStopped, fuzzClock() < deadline else { return false }
        return remaining.subtract(1, ordering: .relaxed).newValue >= 0
    }

    func stop() { stopped.store(true, ordering: .releasing) }
    var isStopped: Bool { stopped.load(ordering: .acquiring) }
}

/// The last frames a connection sent, oldest first: what a crash report saves.
struct FuzzRing: Sendable {
    private var items: [FuzzFrame] = []
    private var head = 0
    let capacity: Int

    init(capacity: Int) { self.capacity = max(1, capacity) }

    mutating func append(_ f: FuzzFrame) {
        if items.count < capacity { items.append(f) } else {
            items[head] = f
            head = (head + 1) % capacity
        }
    }

    var frames: [FuzzFrame] { Array(items[head...] + items[..<head]) }
}

/// A value several threads add to under a lock.
final class FuzzShared<Value: Sendable>: Sendable {
    private let value: Mutex<Value>

    init(_ initial: Value) { value = Mutex(initial) }

    func update(_ body: (inout Value) -> Void) { value.withLock { body(&$0) } }
    var snapshot: Value { value.withLock { $0 } }
}
