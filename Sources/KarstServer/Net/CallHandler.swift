import KarstProtocol
import Logging
import NIOCore

/// One client connection's calls: each frame goes through `CallIntake` (answered here, or a
/// typed command for the engine), and replies go out in call order (`ReplyOrder`), however the
/// engine interleaves them. Comes after the frame decoder and `PeerCredentialsHandler`.
///
/// Backpressure: while `maxCallsInFlight` calls await their replies, or the socket's send buffer
/// is full, the handler stops reading from the client, so neither a flood of pipelined calls nor
/// a client that stops reading grows any buffer without bound. A `Watch` that falls more than
/// `watchBufferEvents` behind is ended with `SlowConsumer`.
///
/// Confined to its channel's event loop; the engine reaches it through `ConnectionSink`.
final class CallHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// What every connection of a server shares.
    struct Context: Sendable {
        var engine: Engine
        var maxCallsInFlight: Int
        var watchBufferEvents: Int
        var logger: Logger
        var watchIDs: WatchIDs
    }

    private let shared: Context
    private var order = ReplyOrder()
    fileprivate var backlog: WatchBacklog?
    private var readPending = false
    private var context: ChannelHandlerContext?
    private var sink: ConnectionSink?
    /// The peer, once `PeerCredentialsHandler` has announced it (before any frame).
    private var caller: Caller?

    init(_ shared: Context) { self.shared = shared }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        sink = ConnectionSink(handler: NIOLoopBound(self, eventLoop: context.eventLoop), eventLoop: context.eventLoop)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        sink = nil  // it holds this handler: break the cycle
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !order.isClosing else { return }
        let frame = unwrapInboundIn(data)
        let sequence = order.open()
        let decision = frame.withUnsafeReadableBytes { raw in
            CallIntake.decide(frame: raw.assumingMemoryBound(to: UInt8.self), version: KarstVersion.current)
        }
        switch decision {
        case .reply(let frame, let close):
            if close { shared.logger.notice("bad message from \(describe(caller)); closing the connection") }
            reply(sequence, frame, closing: close, context)
        case .noReply:
            reply(sequence, [], context)
        case .engine(let call):
            guard let caller else {
                reply(sequence, VarlinkReply.frame(error: .invalidMessage("peer credentials unavailable")), closing: true,
                      context)
                return
            }
            if caller.datacenter != nil, !call.command.isAgentCall {
                shared.logger.warning("permission denied: \(caller) may make io.karst.Agent calls only")
                reply(sequence, VarlinkReply.frame(error: .permissionDenied), context)
                return
            }
            submit(call, caller: caller, sequence: sequence, context)
        }
    }

    /// Hands a decoded call to the engine; a `Watch` gets its stream (one per connection).
    private func submit(_ call: CallIntake.EngineCall, caller: Caller, sequence: UInt64, _ context: ChannelHandlerContext) {
        var stream: (@Sendable ([UInt8]) -> Bool)? = nil
        var watchID: UInt64 = 0
        if call.command.streams, order.watch == nil {
            watchID = shared.watchIDs.next()
            let backlog = WatchBacklog(limit: shared.watchBufferEvents)
            self.backlog = backlog
            order.startWatch(sequence: sequence, id: watchID)
            let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
            let eventLoop = context.eventLoop
            stream = { frame in
                guard backlog.enqueue() else { return false }
                eventLoop.execute { loopBound.value.streamed(frame) }
                return true
            }
        }
        if call.oneway { reply(sequence, [], context) }
        guard let sink else { return }
        shared.engine.submit(.request(EngineRequest(
            call, caller: caller, sink: sink, sequence: sequence, watchID: watchID, stream: stream,
            receivedAt: ScaledWallClock.monotonicSeconds())))
    }

    /// A batch of replies from the engine.
    func deliver(_ replies: [(UInt64, EngineReply)]) {
        guard let context, context.channel.isActive else { return }
        var out = Output()
        for (sequence, r) in replies { order.reply(sequence, r.frame) { out.take($0, context) } }
        out.finish(self, context)
        context.flush()
    }

    /// A frame the active watch streams.
    private func streamed(_ frame: [UInt8]) {
        guard let context, context.channel.isActive else { return }
        var out = Output()
        order.stream(frame) { out.take($0, context) }
        out.finish(self, context)
        context.flush()
    }

    /// One reply of this connection's own (not the engine's) into the order.
    private func reply(_ sequence: UInt64, _ frame: [UInt8], closing: Bool = false, _ context: ChannelHandlerContext) {
        var out = Output()
        order.reply(sequence, frame, closing: closing) { out.take($0, context) }
        out.finish(self, context)
    }

    /// `ReplyOrder`'s actions, gathered while the order is being changed and carried out after
    /// (a write can call back into this handler, which must not find its order mid-change):
    /// replies now in order go out as one buffer, then the watch's frames, then a close.
    private struct Output {
        var pending: ByteBuffer?
        var stream: [[UInt8]] = []
        var close = false

        mutating func take(_ action: ReplyOrder.Action, _ context: ChannelHandlerContext) {
            switch action {
            case .write(let frame):
                if pending == nil { pending = context.channel.allocator.buffer(capacity: max(4096, frame.count)) }
                pending!.writeBytes(frame)
            case .writeStream(let frame): stream.append(frame)
            case .close: close = true
            }
        }

        func finish(_ handler: CallHandler, _ context: ChannelHandlerContext) {
            if let pending { context.write(handler.wrapOutboundOut(pending), promise: nil) }
            if !stream.isEmpty {
                let backlog = handler.backlog
                for frame in stream {
                    let promise = context.eventLoop.makePromise(of: Void.self)
                    promise.futureResult.whenComplete { _ in backlog?.dequeue() }
                    context.write(handler.wrapOutboundOut(context.channel.allocator.buffer(bytes: frame)), promise: promise)
                }
            }
            if close {
                let channel = context.channel
                context.writeAndFlush(handler.wrapOutboundOut(channel.allocator.buffer(capacity: 0))).whenComplete { _ in
                    channel.close(promise: nil)
                }
            }
            handler.resumeReadingIfPossible(context)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
        context.fireChannelReadComplete()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if let tooLarge = error as? VarlinkFrameDecoder.FrameTooLarge {
            shared.logger.warning("refused a message over \(tooLarge.limit) bytes from \(describe(caller))")
            reply(order.open(), VarlinkReply.frame(error: .frameTooLarge(limit: tooLarge.limit)), closing: true, context)
            return
        }
        shared.logger.debug("connection error: \(error)")
        context.close(promise: nil)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let peer = event as? PeerCredentials {
            caller = peer.caller
            return
        }
        if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read, order.inFlight == 0, order.watch == nil {
            shared.logger.debug("closing idle connection of \(describe(caller))")
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let watch = order.closed() { shared.engine.submit(.unwatch(watch)) }
        sink = nil
        context.fireChannelInactive()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        resumeReadingIfPossible(context)
        context.fireChannelWritabilityChanged()
    }

    func read(context: ChannelHandlerContext) {
        guard order.mayRead(limit: shared.maxCallsInFlight), context.channel.isWritable else {
            readPending = true
            return
        }
        context.read()
    }

    fileprivate func resumeReadingIfPossible(_ context: ChannelHandlerContext) {
        guard readPending, order.mayRead(limit: shared.maxCallsInFlight), context.channel.isWritable else { return }
        readPending = false
        context.read()
    }

    private func describe(_ caller: Caller?) -> String { caller?.description ?? "?" }
}
