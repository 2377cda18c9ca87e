import CKarstPosix
import Foundation
import KarstCore
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Runs an `EngineCore` on its own thread: waits for calls (or the next modelled completion),
/// takes everything queued as one batch, processes it, repeats.
///
/// A dedicated thread rather than a task: the cooperative pool has two threads on a two-core
/// machine, and the engine must never block it (nor be starved by it).
public final class Engine: Sendable {
    public let core: EngineCore
    private let inbox = Inbox()
    private enum RunState {
        case notStarted, running, finished
        case stopping(CheckedContinuation<Void, Never>)
    }
    private let runState = Mutex(RunState.notStarted)
    /// Monotonic seconds at the end of the last batch: the watchdog pings only while this moves.
    private let progress = Mutex(0.0)
    /// Largest number of calls processed as one batch.
    public static let maxBatch = 8192

    public init(core: EngineCore) {
        self.core = core
        let inbox = self.inbox
        core.submitToSelf = { inbox.push($0) }
    }

    /// Queues work for the engine. Safe from any thread.
    public func submit(_ item: EngineItem) { inbox.push(item) }

    /// Returns true once everything queued so far has been processed and answered, or false
    /// after `timeoutSeconds` if the engine has not got there.
    public func barrier(timeoutSeconds: Double) async -> Bool {
        await withCheckedContinuation { (c: CheckedContinuation<Bool, Never>) in
            let once = ResumeOnce(c)
            submit(.barrier { once.resume(true) })
            Task {
                try? await Task.sleep(for: .milliseconds(Int64(timeoutSeconds * 1000)))
                once.resume(false)
            }
        }
    }

    /// Monotonic seconds when the engine last finished a batch.
    public var lastProgress: Double { progress.withLock { $0 } }

    /// Starts the engine thread.
    public func start() {
        progress.withLock { $0 = ScaledWallClock.monotonicSeconds() }
        runState.withLock { $0 = .running }
        let thread = Thread { [self] in
            // Named from inside: the name given to Foundation's `Thread.name` before the start
            // did not reach the thread here, which kept the name of the one that made it (a
            // dispatch worker's, `com.apple.root.default-qos`), as `top -H` and `ps -L` showed.
            _ = karst_set_thread_name("karst-engine")
            loop()
            runState.withLock { s in
                if case .stopping(let c) = s { c.resume() }
                s = .finished
            }
        }
        thread.stackSize = 8 << 20
        thread.start()
    }

    /// Stops taking new work, processes what is queued, and returns when the thread has ended.
    public func stop() async {
        inbox.close()
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            runState.withLock { s in
                switch s {
                case .running: s = .stopping(c)
                case .notStarted, .finished, .stopping: c.resume()
                }
            }
        }
    }

    /// The longest the engine sleeps without work: its progress mark (which the watchdog reads)
    /// is never older than this while it is healthy.
    static let idleWake = 0.25

    /// How long the engine polls for more work after a batch before it sleeps.
    static let spinSeconds = 0.0002

    private func loop() {
        var spin = false
        while true {
            let wait = core.clock.wallSeconds(until: core.nextWake)
            let (batch, closed, waited) = inbox.take(max: Self.maxBatch, waitingAtMost: min(Self.idleWake, wait),
                                                     spinSeconds: spin ? Self.spinSeconds : 0)
            // Spin after a batch only while spinning pays: calls arriving together (a batch of
            // several), or this one came within the spin's window. A lone client calling every
            // millisecond or two (a shell loop of karstctl) would otherwise cost 0.2 ms of a
            // core per call, taken from the very processes it waits for.
            spin = batch.count > 1 || (!batch.isEmpty && waited < Self.spinSeconds)
            core.process(batch)
            progress.withLock { $0 = ScaledWallClock.monotonicSeconds() }
            if closed && batch.isEmpty && inbox.isEmpty { return }
        }
    }
}

/// Resumes a continuation exactly once, whoever comes first.
final class ResumeOnce<T: Sendable>: Sendable {
    private let continuation: Mutex<CheckedContinuation<T, Never>?>

    init(_ c: CheckedContinuation<T, Never>) { continuation = Mutex(c) }

    func resume(_ value: T) {
        continuation.withLock { c in
            c?.resume(returning: value)
            c = nil
        }
    }
}

/// The engine's queue: many producers (connections), one consumer (the engine thread).
final class Inbox: @unchecked Sendable {
    private let condition = NSCondition()
    private var items: [EngineItem] = []
    private var closed = false

    /// Items queued, readable without the lock (for the spin in `take`).
    private let pending = Atomic<Int>(0)

    /// Signals after unlocking: a consumer woken while the producer still held the lock would
    /// block on it at once and need a second wake-up (two more futex calls, and a wake-up can
    /// cost tens of microseconds on an idle virtual CPU) before it could take the item. Not
    /// lost: a consumer checks for items and starts waiting under the lock, so it either sees
    /// this item or is already waiting when the signal comes. A signal may now come after the
    /// consumer took the item (by its spin) and wake a later wait with nothing queued: `take`
    /// then returns an empty batch and the engine's loop waits again.
    func push(_ item: EngineItem) {
        condition.lock()
        items.append(item)
        pending.store(items.count, ordering: .releasing)
        condition.unlock()
        condition.signal()
    }

    var isEmpty: Bool {
        condition.lock()
        defer { condition.unlock() }
        return items.isEmpty
    }

    func close() {
        condition.lock()
        closed = true
        condition.unlock()
        condition.signal()
    }

    /// Up to `max` queued items, waiting up to `seconds` for the first.
    ///
    /// Before sleeping it polls for `spinSeconds` (yielding the CPU between polls): a call that
    /// arrives within that window is taken without a futex sleep and wake-up, which on this kind
    /// of machine costs tens of microseconds of round trip.
    /// `waited`: how long it waited for the first item (0 when one was queued already).
    func take(max: Int, waitingAtMost seconds: Double, spinSeconds: Double = 0) -> ([EngineItem], closed: Bool, waited: Double) {
        let started = ScaledWallClock.monotonicSeconds()
        if spinSeconds > 0 {
            let until = started + min(spinSeconds, seconds)
            while pending.load(ordering: .acquiring) == 0 && ScaledWallClock.monotonicSeconds() < until {
                sched_yield()
            }
        }
        condition.lock()
        defer { condition.unlock() }
        var waited = 0.0
        if items.isEmpty && !closed && seconds > 0 {
            _ = condition.wait(until: Date(timeIntervalSinceNow: seconds))
            waited = ScaledWallClock.monotonicSeconds() - started
        } else if spinSeconds > 0 {
            waited = ScaledWallClock.monotonicSeconds() - started
        }
        if items.count <= max {
            let out = items
            items = []
            pending.store(0, ordering: .releasing)
            return (out, closed, waited)
        }
        let out = Array(items.prefix(max))
        items.removeFirst(max)
        pending.store(items.count, ordering: .releasing)
        return (out, closed, waited)
    }
}
