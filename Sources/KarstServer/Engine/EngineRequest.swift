import KarstConfig
import KarstProtocol

/// A call on its way to the engine, with where its answer goes.
///
/// A class, and immutable: the engine keeps a batch's requests until it answers them, and
/// copying a struct of this many references retained and released each of them every time.
public final class EngineRequest: Sendable {
    public let call: VarlinkCall
    public let caller: Caller
    /// Delivers the reply frame (the last, or only, one) when there is no `sink`.
    public let respond: @Sendable (_ frame: [UInt8]) -> Void
    /// Where replies go in bulk, when the caller is a connection: the engine hands each
    /// connection all of a batch's replies at once (one wake-up of its event loop, not one per
    /// call). `respond` is used when this is nil.
    public let sink: ReplySink?
    /// This call's place in its connection's order (with `sink`).
    public let sequence: UInt64
    /// For `Watch`: delivers one streamed frame; returns false when the consumer has fallen too
    /// far behind, which ends the watch.
    public let stream: (@Sendable (_ frame: [UInt8]) -> Bool)?
    /// Identifies the watch this call starts, so the connection can end it when it closes.
    public let watchID: UInt64
    /// Monotonic seconds when the call was read, for the call-duration histogram.
    public let receivedAt: Double
    /// A `Submit`'s parameters, decoded where the call was read (nil: the engine decodes them).
    let submitParameters: Result<EngineCore.SubmitParameters, VarlinkError>?

    public convenience init(call: VarlinkCall, caller: Caller, watchID: UInt64 = 0, receivedAt: Double = 0,
                            respond: @escaping @Sendable ([UInt8]) -> Void,
                            stream: (@Sendable ([UInt8]) -> Bool)? = nil) {
        self.init(call: call, caller: caller, watchID: watchID, receivedAt: receivedAt, respond: respond,
                  stream: stream, sink: nil, sequence: 0, submitParameters: nil)
    }

    init(call: VarlinkCall, caller: Caller, watchID: UInt64, receivedAt: Double,
         respond: @escaping @Sendable ([UInt8]) -> Void, stream: (@Sendable ([UInt8]) -> Bool)?,
         sink: ReplySink?, sequence: UInt64, submitParameters: Result<EngineCore.SubmitParameters, VarlinkError>?) {
        self.call = call
        self.caller = caller
        self.respond = respond
        self.stream = stream
        self.watchID = watchID
        self.receivedAt = receivedAt
        self.sink = sink
        self.sequence = sequence
        self.submitParameters = submitParameters
    }

    /// Sends one reply frame outside a batch's bulk delivery (a backup, a reload, the end of a
    /// watch): to the sink when there is one, else to `respond`.
    /// A oneway call gets none (its place in the connection's order is already used up).
    func answer(_ frame: [UInt8]) {
        guard !call.oneway else { return }
        if let sink { sink.deliver([(sequence, .frame(frame))]) } else { respond(frame) }
    }

    /// Whether this call, if it succeeds, changes stored state.
    var mutates: Bool {
        if case .success(let decoded)? = submitParameters { return !decoded.dryRun }
        return EngineCore.mutates(call)
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

/// Receives a batch's replies for one connection in one go.
public protocol ReplySink: AnyObject, Sendable {
    /// `replies` are (sequence number, reply), in the order the engine produced them; the sink
    /// renders those that are not framed yet (off the engine thread).
    func deliver(_ replies: [(UInt64, EngineReply)])
}
