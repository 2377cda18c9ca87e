import NIOCore
import Synchronization

/// The engine's way back to one connection: one hop onto its event loop per batch.
final class ConnectionSink: ReplySink {
    let handler: NIOLoopBound<CallHandler>
    let eventLoop: EventLoop

    init(handler: NIOLoopBound<CallHandler>, eventLoop: EventLoop) {
        self.handler = handler
        self.eventLoop = eventLoop
    }

    func deliver(_ replies: [(UInt64, EngineReply)]) {
        let handler = self.handler
        eventLoop.execute { handler.value.deliver(replies) }
    }
}

/// Counts stream frames handed to the event loop but not yet written to the socket.
final class WatchBacklog: Sendable {
    private let count = Atomic<Int>(0)
    let limit: Int

    init(limit: Int) { self.limit = limit }

    /// False when the watcher is already `limit` frames behind.
    func enqueue() -> Bool {
        count.add(1, ordering: .relaxed).newValue <= limit
    }

    func dequeue() { count.subtract(1, ordering: .relaxed) }
}

/// Hands out watch ids, unique within the daemon.
final class WatchIDs: Sendable {
    private let counter = Atomic<UInt64>(0)
    func next() -> UInt64 { counter.add(1, ordering: .relaxed).newValue }
}
