import Foundation
import ServiceLifecycle

/// Work the engine must not do on its own thread — reading and validating a configuration,
/// copying the state for a backup — run one piece at a time on a thread of its own, as a
/// service: graceful shutdown lets what is queued finish (its caller is owed an answer) before
/// the engine, which comes after it in the group, stops.
public final class BackgroundWork: Service, Sendable {
    private let queue: AsyncStream<@Sendable () -> Void>
    private let input: AsyncStream<@Sendable () -> Void>.Continuation

    public init() {
        (queue, input) = AsyncStream.makeStream(of: (@Sendable () -> Void).self)
    }

    /// Queues `work`; false once shutdown has closed the queue (the caller runs it itself).
    public func enqueue(_ work: @escaping @Sendable () -> Void) -> Bool {
        if case .enqueued = input.yield(work) { return true }
        return false
    }

    public func run() async throws {
        await withGracefulShutdownHandler {
            for await work in queue {
                // Blocking work (disk, SQLite): on a thread, never on the cooperative pool.
                await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                    Thread.detachNewThread {
                        work()
                        done.resume()
                    }
                }
            }
        } onGracefulShutdown: { [input] in
            input.finish()
        }
    }
}
