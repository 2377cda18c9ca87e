import CKarstPosix
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// The peer of a connection, announced (as a user inbound event) before its first frame goes on.
struct PeerCredentials {
    /// Nil when the credentials could not be read (its calls are then refused).
    var caller: Caller?
}

/// Reads the peer's credentials (`SO_PEERCRED`) once per connection and announces them to the
/// handlers after it (`PeerCredentials`) before any frame: frames that arrive before the
/// credentials are known wait for them, in order. Frames pass on untouched.
final class PeerCredentialsHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let access: AccessPolicy
    private var caller: Caller?
    private var known = false
    private var early: [ByteBuffer] = []

    init(access: AccessPolicy) { self.access = access }

    func channelActive(context: ChannelHandlerContext) {
        resolve(context)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard known else {
            early.append(unwrapInboundIn(data))
            return
        }
        context.fireChannelRead(data)
    }

    private func resolve(_ context: ChannelHandlerContext) {
        guard let provider = context.channel as? SocketOptionProvider else {
            known = true
            context.fireUserInboundEventTriggered(PeerCredentials(caller: nil))
            return
        }
        let future: EventLoopFuture<karst_ucred> = provider.unsafeGetSocketOption(
            level: NIOBSDSocket.OptionLevel(rawValue: SOL_SOCKET), name: NIOBSDSocket.Option(rawValue: SO_PEERCRED))
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        let boundContext = NIOLoopBound(context, eventLoop: context.eventLoop)
        let access = self.access
        future.whenComplete { result in
            let me = handler.value
            if case .success(let cred) = result {
                me.caller = access.caller(pid: cred.pid, uid: cred.uid, gid: cred.gid)
            }
            me.known = true
            let context = boundContext.value
            guard context.channel.isActive else { return }
            context.fireUserInboundEventTriggered(PeerCredentials(caller: me.caller))
            let waiting = me.early
            me.early = []
            for frame in waiting { context.fireChannelRead(me.wrapInboundOut(frame)) }
            if !waiting.isEmpty { context.fireChannelReadComplete() }
        }
    }
}
