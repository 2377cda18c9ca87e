import KarstConfig
import KarstProtocol
import Synchronization

/// A decoded call on its way to the engine, with where its answer goes.
///
/// A class, and immutable: the engine keeps a batch's requests until it answers them, and
/// copying a struct of this many references would retain and release each of them every time.
public final class EngineRequest: Sendable {
    public let command: Command
    public let caller: Caller
    /// The caller wants no reply (its place in the connection's order is already used up).
    public let oneway: Bool
    /// Where every reply of this call goes: the engine hands each sink all of a batch's replies
    /// at once (one wake-up of a connection's event loop, not one per call).
    public let sink: ReplySink
    /// This call's place in its connection's order.
    public let sequence: UInt64
    /// For `Watch`: delivers one streamed frame; returns false when the consumer has fallen too
    /// far behind, which ends the watch.
    public let stream: (@Sendable (_ frame: [UInt8]) -> Bool)?
    /// Identifies the watch this call starts, so the connection can end it when it closes.
    public let watchID: UInt64
    /// Monotonic seconds when the call was read, for the call-duration histogram (0: not timed).
    public let receivedAt: Double

    public init(_ call: CallIntake.EngineCall, caller: Caller, sink: ReplySink, sequence: UInt64 = 0,
                watchID: UInt64 = 0, stream: (@Sendable ([UInt8]) -> Bool)? = nil, receivedAt: Double = 0) {
        command = call.command
        oneway = call.oneway
        self.caller = caller
        self.sink = sink
        self.sequence = sequence
        self.watchID = watchID
        self.stream = stream
        self.receivedAt = receivedAt
    }

    /// Sends one reply frame outside a batch's bulk delivery (a backup, a reload, the end of a
    /// watch). A oneway call gets none.
    func answer(_ frame: [UInt8]) {
        guard !oneway else { return }
        sink.deliver([(sequence, .frame(frame))])
    }
}

/// What the engine's inbox carries.
public enum EngineItem: Sendable {
    case request(EngineRequest)
    /// The connection that started this watch went away.
    case unwatch(UInt64)
    /// Swap in a configuration already read and validated off the engine (or report why it
    /// could not be); the reply, if any, goes to `respond`.
    case applyConfiguration(Result<KarstConfiguration, ConfigError>, respond: (@Sendable (Result<Int, VarlinkError>) -> Void)?)
    /// Runs `done` after every item queued before it has been answered.
    case barrier(@Sendable () -> Void)
}

/// Receives a batch's replies for one connection in one go: the one way replies leave the engine.
public protocol ReplySink: AnyObject, Sendable {
    /// `replies` are (sequence number, reply), in the order the engine produced them; the sink
    /// renders those that are not framed yet (off the engine thread).
    func deliver(_ replies: [(UInt64, EngineReply)])
}

/// A sink that keeps the frames it is given, for callers in the same process (tests, fuzz
/// targets, benchmarks): the replies go the same way as a connection's.
public final class CollectingSink: ReplySink {
    private let frames = Mutex<[(UInt64, [UInt8])]>([])

    public init() {}

    public func deliver(_ replies: [(UInt64, EngineReply)]) {
        let rendered = replies.map { ($0.0, $0.1.frame) }
        frames.withLock { $0 += rendered }
    }

    /// Every frame received so far, in arrival order, with its sequence number.
    public var received: [(sequence: UInt64, frame: [UInt8])] { frames.withLock { $0.map { ($0.0, $0.1) } } }

    /// Takes the frames received so far.
    public func take() -> [[UInt8]] { frames.withLock { f in defer { f = [] }; return f.map(\.1) } }
}
