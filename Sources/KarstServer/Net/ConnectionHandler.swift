import CKarstPosix
import KarstProtocol
import Logging
import NIOCore
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// One client connection: decodes framed calls, sends them to the engine (or answers them
/// locally), and writes the replies back in call order, however the engine interleaves them.
///
/// Backpressure: while `maxCallsInFlight` calls await their replies, or the socket's send buffer
/// is full, the handler stops reading from the client, so neither a flood of pipelined calls nor
/// a client that stops reading grows any buffer without bound. A `Watch` that falls more than
/// `watchBufferEvents` behind is ended with `SlowConsumer`.
///
/// Confined to its channel's event loop; the engine reaches it through `NIOLoopBound`.
final class ConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    struct Context: Sendable {
        var engine: Engine
        var access: AccessPolicy
        var maxCallsInFlight: Int
        var watchBufferEvents: Int
        var logger: Logger
        var watchIDs: WatchIDs
    }

    private let shared: Context
    /// The `respond` of requests whose replies go through the connection's sink (never called).
    private static let viaSink: @Sendable ([UInt8]) -> Void = { _ in }
    private var caller: Caller?
    private var nextSeq: UInt64 = 0
    private var nextToWrite: UInt64 = 0
    private var ready: [UInt64: [UInt8]] = [:]
    /// The sequence number of an active Watch, its id, and frames waiting for it to reach the head.
    private var watch: (seq: UInt64, id: UInt64, backlog: WatchBacklog)?
    private var heldStream: [[UInt8]] = []
    /// After this sequence number is written, close (the stream could not be trusted).
    private var closeAfter: UInt64?
    private var readPending = false
    /// Frames that arrived before the peer's credentials were read.
    private var early: [ByteBuffer] = []
    private var credentialsKnown = false
    private var replySink: ConnectionSink?

    private func sink(_ context: ChannelHandlerContext) -> ConnectionSink {
        if let replySink { return replySink }
        let made = ConnectionSink(handler: NIOLoopBound(self, eventLoop: context.eventLoop), eventLoop: context.eventLoop)
        replySink = made
        return made
    }

    /// A batch of replies from the engine.
    fileprivate func deliverBatch(_ replies: [(UInt64, EngineReply)]) {
        guard let channel, channel.isActive, let context = try? channel.pipeline.syncOperations.context(handler: self) else {
            return
        }
        for (seq, reply) in replies {
            if let w = watch, w.seq == seq {
                // The watch ended (an error, or SlowConsumer). Frames held until it reached the
                // head of the order are dropped with it: a later watch must not inherit them.
                watch = nil
                heldStream.removeAll()
            }
            ready[seq] = reply.frame
        }
        drain(context)
        context.flush()
    }
    private weak var channel: Channel?

    init(_ shared: Context) { self.shared = shared }

    private var inFlight: Int { Int(nextSeq - nextToWrite) }

    func channelActive(context: ChannelHandlerContext) {
        channel = context.channel
        resolveCaller(context)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard closeAfter == nil else { return }
        let frame = unwrapInboundIn(data)
        guard credentialsKnown else {
            early.append(frame)
            return
        }
        handle(frame, context: context)
    }

    private func handle(_ frame: ByteBuffer, context: ChannelHandlerContext) {
        guard closeAfter == nil else { return }
        let seq = nextSeq
        nextSeq += 1
        var call: VarlinkCall
        do {
            call = try frame.withUnsafeReadableBytes { raw in
                Result { () throws(VarlinkError) in try VarlinkCall(frame: raw.assumingMemoryBound(to: UInt8.self)) }
            }.get()
        } catch {
            // An unreadable message leaves the stream untrustworthy; a readable call with bad
            // parameters does not.
            if error.name == VarlinkError.invalidMessage("").name {
                fail(seq: seq, error, context: context)
            } else {
                deliver(seq, VarlinkReply.frame(error: error), context: context)
            }
            return
        }
        guard let caller else {
            fail(seq: seq, .invalidMessage("peer credentials unavailable"), context: context)
            return
        }
        if call.upgrade {
            deliver(seq, VarlinkReply.frame(error: .invalidParameter("upgrade")), context: context)
            return
        }
        if let local = Dispatcher.answerLocally(call, version: KarstVersion.current) {
            if call.oneway { complete(seq, context: context) } else { deliver(seq, local, context: context) }
            return
        }
        let eventLoop = context.eventLoop
        var stream: (@Sendable ([UInt8]) -> Bool)? = nil
        var watchID: UInt64 = 0
        if call.method == "io.karst.Scheduler.Watch", call.more, watch == nil {
            watchID = shared.watchIDs.next()
            let backlog = WatchBacklog(limit: shared.watchBufferEvents)
            watch = (seq, watchID, backlog)
            let loopBound = NIOLoopBound(self, eventLoop: eventLoop)
            stream = { frame in
                guard backlog.enqueue() else { return false }
                eventLoop.execute { loopBound.value.writeStream(frame) }
                return true
            }
        }
        if call.oneway {
            complete(seq, context: context)
        }
        var submitParameters: Result<EngineCore.SubmitParameters, VarlinkError>? = nil
        if call.method == "io.karst.Scheduler.Submit" {
            // Decoded here, on the event loop, so that the engine thread does not; the engine
            // then has no use for the parameters' tree, which is dropped here too (freeing its
            // nodes was engine time as well).
            do throws(VarlinkError) {
                submitParameters = .success(try EngineCore.SubmitParameters(call.parameters))
                call.parameters = JSONObject()
            } catch {
                submitParameters = .failure(error)
            }
        }
        // Every reply of a connection's call goes through its sink (`EngineRequest.answer`).
        let request = EngineRequest(call: call, caller: caller, watchID: watchID,
                                    receivedAt: ScaledWallClock.monotonicSeconds(), respond: Self.viaSink,
                                    stream: stream, sink: sink(context), sequence: seq,
                                    submitParameters: submitParameters)
        shared.engine.submit(.request(request))
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
        context.fireChannelReadComplete()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if let tooLarge = error as? VarlinkFrameDecoder.FrameTooLarge {
            shared.logger.warning("refused a message over \(tooLarge.limit) bytes from \(caller?.description ?? "?")")
            fail(seq: nextSeq, .frameTooLarge(limit: tooLarge.limit), context: context)
            nextSeq += 1
            return
        }
        shared.logger.debug("connection error: \(error)")
        context.close(promise: nil)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read, inFlight == 0, watch == nil {
            shared.logger.debug("closing idle connection of \(caller?.description ?? "?")")
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let watch { shared.engine.submit(.unwatch(watch.id)) }
        watch = nil
        heldStream.removeAll()
        ready.removeAll()
        replySink = nil  // it holds this handler: break the cycle
        context.fireChannelInactive()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        resumeReadingIfPossible(context)
        context.fireChannelWritabilityChanged()
    }

    func read(context: ChannelHandlerContext) {
        if inFlight >= shared.maxCallsInFlight || !context.channel.isWritable || closeAfter != nil {
            readPending = true
            return
        }
        context.read()
    }

    // MARK: - Replies in order

    private func fail(seq: UInt64, _ error: VarlinkError, context: ChannelHandlerContext) {
        shared.logger.notice("bad message from \(caller?.description ?? "?"): \(error)")
        closeAfter = seq
        deliver(seq, VarlinkReply.frame(error: error), context: context)
    }

    private func deliver(_ seq: UInt64, _ frame: [UInt8], context: ChannelHandlerContext) {
        ready[seq] = frame
        drain(context)
    }

    /// A oneway call: no reply, but its place in the order is used up.
    private func complete(_ seq: UInt64, context: ChannelHandlerContext) {
        ready[seq] = []
        drain(context)
    }

    private func drain(_ context: ChannelHandlerContext) {
        // The frames now in order go out as one buffer: one write through the pipeline, not one
        // per reply.
        var out: ByteBuffer? = nil
        while let frame = ready.removeValue(forKey: nextToWrite) {
            if !frame.isEmpty {
                if out == nil { out = context.channel.allocator.buffer(capacity: max(frame.count, 4096)) }
                out!.writeBytes(frame)
            }
            if closeAfter == nextToWrite {
                let channel = context.channel
                if let out { context.write(wrapOutboundOut(out), promise: nil) }
                context.writeAndFlush(wrapOutboundOut(channel.allocator.buffer(capacity: 0))).whenComplete { _ in
                    channel.close(promise: nil)
                }
                nextToWrite += 1
                return
            }
            nextToWrite += 1
        }
        if let out { context.write(wrapOutboundOut(out), promise: nil) }
        if let w = watch, w.seq == nextToWrite, !heldStream.isEmpty {
            for frame in heldStream { writeStreamNow(frame, context) }
            heldStream.removeAll()
        }
        resumeReadingIfPossible(context)
    }

    private func writeStream(_ frame: [UInt8]) {
        guard let channel, channel.isActive, let w = watch,
              let context = try? channel.pipeline.syncOperations.context(handler: self) else { return }
        if w.seq == nextToWrite {
            writeStreamNow(frame, context)
            context.flush()
        } else {
            heldStream.append(frame)
        }
    }

    private func writeStreamNow(_ frame: [UInt8], _ context: ChannelHandlerContext) {
        let backlog = watch?.backlog
        let promise = context.eventLoop.makePromise(of: Void.self)
        promise.futureResult.whenComplete { _ in backlog?.dequeue() }
        context.write(wrapOutboundOut(context.channel.allocator.buffer(bytes: frame)), promise: promise)
    }

    private func resumeReadingIfPossible(_ context: ChannelHandlerContext) {
        guard readPending, inFlight < shared.maxCallsInFlight, context.channel.isWritable, closeAfter == nil else { return }
        readPending = false
        context.read()
    }

    // MARK: - Peer credentials

    /// Reads `SO_PEERCRED` once per connection; calls that arrive first wait for it.
    private func resolveCaller(_ context: ChannelHandlerContext) {
        guard let provider = context.channel as? SocketOptionProvider else {
            credentialsKnown = true
            return
        }
        let future: EventLoopFuture<karst_ucred> = provider.unsafeGetSocketOption(
            level: NIOBSDSocket.OptionLevel(rawValue: SOL_SOCKET), name: NIOBSDSocket.Option(rawValue: SO_PEERCRED))
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        let access = shared.access
        future.whenComplete { result in
            let handler = loopBound.value
            if case .success(let cred) = result {
                handler.caller = access.caller(pid: cred.pid, uid: cred.uid, gid: cred.gid)
            }
            handler.credentialsKnown = true
            guard let channel = handler.channel,
                  let context = try? channel.pipeline.syncOperations.context(handler: handler) else { return }
            let waiting = handler.early
            handler.early = []
            for frame in waiting { handler.handle(frame, context: context) }
            context.flush()
        }
    }
}

/// The engine's way back to one connection: one hop onto its event loop per batch.
final class ConnectionSink: ReplySink {
    let handler: NIOLoopBound<ConnectionHandler>
    let eventLoop: EventLoop

    init(handler: NIOLoopBound<ConnectionHandler>, eventLoop: EventLoop) {
        self.handler = handler
        self.eventLoop = eventLoop
    }

    func deliver(_ replies: [(UInt64, EngineReply)]) {
        let handler = self.handler
        eventLoop.execute { handler.value.deliverBatch(replies) }
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
