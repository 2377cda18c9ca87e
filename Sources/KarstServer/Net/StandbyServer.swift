import KarstConfig
import KarstProtocol
import KarstStore
import Logging
import NIOCore
import NIOPosix
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// What a standby replica serves on the control socket until it leads: every call is answered
/// `io.karst.Protocol.NotLeader` naming the replica that leads and where (a oneway call gets no
/// answer), so a client knows where to go instead of finding no socket.
///
/// Started before the lease is sought, closed once it is held: the real `ControlServer` then
/// binds the same path (or adopts the same socket-activated descriptor, which the standby used
/// through a duplicate of its own).
final class StandbyServer: Sendable {
    /// Who leads, as the waiting loop last read the lease (the handlers read it for every
    /// answer); nil until it has been read.
    final class Current: Sendable {
        let leader = Mutex<LeaseHolder?>(nil)
    }

    let current = Current()
    private let channel: Mutex<Channel?> = Mutex(nil)
    private let target: ListenTarget
    private let settings: ServerSettings
    private let socketGroup: UInt32?
    private let logger: Logger

    /// `socketGroup`: the group the socket file is given (`[access] socket_group`), as the
    /// leader's is, so the same clients can reach it.
    init(target: ListenTarget, settings: ServerSettings, socketGroup: UInt32?, logger: Logger) {
        self.target = target
        self.settings = settings
        self.socketGroup = socketGroup
        self.logger = logger
    }

    /// Binds and serves on `group`; a target it cannot serve (a remote listener) is left alone.
    func start(on group: EventLoopGroup) async throws {
        let current = self.current
        let maxFrame = settings.maxMessageBytes
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers([
                        ByteToMessageHandler(VarlinkFrameDecoder(maxFrameBytes: maxFrame)), NotLeaderHandler(current: current),
                    ])
                }
            }
        let bound: Channel
        switch target {
        case .path(let path):
            try SocketFile.prepare(path)
            bound = try await bootstrap.bind(unixDomainSocketPath: path, cleanupExistingSocketFile: false).get()
            try SocketFile.finish(path, mode: settings.socketMode, group: socketGroup)
        case .activated(let fd, _):
            bound = try await bootstrap.withBoundSocket(dup(fd)).get()
        case .tls:
            return
        }
        channel.withLock { $0 = bound }
        logger.notice("standby: answering calls on \(target) with NotLeader until this replica leads")
    }

    /// Stops accepting and closes the listener (connections already open get their answers and
    /// end when their clients close them).
    func stop() async {
        guard let c = channel.withLock({ c in defer { c = nil }; return c }) else { return }
        try? await c.close()
    }
}

/// Answers each framed call with the current `NotLeader`.
final class NotLeaderHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let current: StandbyServer.Current

    init(current: StandbyServer.Current) { self.current = current }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        if let call = try? VarlinkCall(frame: frame.readableBytesView), call.oneway { return }
        let l = current.leader.withLock { $0 }
        let error = ProtocolInterface.NotLeader(leader: l?.holder, address: l?.address, epoch: Int(l?.epoch ?? 0)).varlinkError
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: VarlinkReply.frame(error: error))), promise: nil)
    }

    /// A frame over the limit, a broken connection: closed.
    func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }
}
