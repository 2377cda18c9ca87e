import KarstConfig
import KarstProtocol
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import ServiceLifecycle
import Synchronization

/// Where the control socket comes from.
public enum ListenTarget: Sendable, CustomStringConvertible {
    /// Bind this path.
    case path(String)
    /// Adopt a listening socket passed by systemd (socket activation).
    case activated(fd: Int32, name: String)
    /// Remote site agents: TCP with mutual TLS (`context` verifies their certificates). Each
    /// connection's caller is the agent its certificate names (`CertificateIdentityHandler`).
    case tls(host: String, port: Int, context: NIOSSLContext)

    public var description: String {
        switch self {
        case .path(let p): p
        case .activated(let fd, let name): "socket-activated fd \(fd) (\(name))"
        case .tls(let host, let port, _): "\(host):\(port) for remote agents (mutual TLS)"
        }
    }
}

/// The Varlink control server: accepts connections on the Unix socket and gives each a pipeline
/// of framing → idle detection → peer credentials (`PeerCredentialsHandler`) → calls
/// (`CallHandler`). A `Service`: it serves until graceful
/// shutdown, then stops accepting, lets every call already read get its answer, and closes.
public final class ControlServer: Service, Sendable {
    let target: ListenTarget
    let settings: ServerSettings
    let access: AccessPolicy
    let engine: Engine
    let logger: Logger
    let group: EventLoopGroup
    private let connections = Mutex<[ObjectIdentifier: Channel]>([:])
    /// The listening channel, when bound before `run` (`bindNow`).
    private let bound = Mutex<Channel?>(nil)
    private let onReady: (@Sendable (String) -> Void)?
    private let watchIDs = WatchIDs()

    private let metrics: ConnectionMetrics?

    public init(target: ListenTarget, settings: ServerSettings, access: AccessPolicy, engine: Engine,
                logger: Logger, group: EventLoopGroup, metrics: ConnectionMetrics? = nil,
                onReady: (@Sendable (String) -> Void)? = nil) {
        self.metrics = metrics
        self.target = target
        self.settings = settings
        self.access = access
        self.engine = engine
        self.logger = logger
        self.group = group
        self.onReady = onReady
    }

    /// Number of open client connections.
    public var connectionCount: Int { connections.withLock { $0.count } }

    /// Binds now rather than in `run`: a listener that cannot bind (an address in use) fails the
    /// daemon's start with that error, before any service runs.
    public func bindNow() async throws {
        let channel = try await bind()
        bound.withLock { $0 = channel }
    }

    public func run() async throws {
        let prebound = bound.withLock { channel -> Channel? in
            defer { channel = nil }
            return channel
        }
        let server: Channel
        if let prebound { server = prebound } else { server = try await bind() }
        logger.notice("serving Varlink on \(target)")
        onReady?(target.description)
        await serveUntilShutdown(server)
        await drainConnections()
        if case .path(let p) = target { unlink(p) }
        logger.notice("control server stopped")
    }

    private func bind() async throws -> Channel {
        let shared = CallHandler.Context(
            engine: engine, maxCallsInFlight: settings.maxCallsInFlight,
            watchBufferEvents: settings.watchBufferEvents, logger: logger, watchIDs: watchIDs)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .childChannelOption(.writeBufferWaterMark, value: .init(low: 256 << 10, high: 1 << 20))
            .childChannelInitializer { [self] channel in
                admit(channel, shared)
            }
        switch target {
        case .path(let path):
            try SocketFile.prepare(path)
            let channel = try await bootstrap.bind(unixDomainSocketPath: path, cleanupExistingSocketFile: false).get()
            let group = access.settings.socketGroup.flatMap { name -> UInt32? in
                if let gid = groupID(named: name) { return gid }
                logger.warning("socket group \(name) does not exist; the socket keeps the daemon's group")
                return nil
            }
            try SocketFile.finish(path, mode: settings.socketMode, group: group)
            return channel
        case .activated(let fd, _):
            return try await bootstrap.withBoundSocket(fd).get()
        case .tls(let host, let port, _):
            return try await bootstrap.serverChannelOption(.socketOption(.so_reuseaddr), value: 1).bind(host: host, port: port).get()
        }
    }

    /// Sets up a new connection, or turns it away when the daemon is at its connection limit.
    private func admit(_ channel: Channel, _ shared: CallHandler.Context) -> EventLoopFuture<Void> {
        let id = ObjectIdentifier(channel)
        let admitted = connections.withLock { open -> Bool in
            guard open.count < settings.maxConnections else { return false }
            open[id] = channel
            return true
        }
        guard admitted else {
            metrics?.refused.increment()
            logger.warning("refusing a connection: \(settings.maxConnections) already open")
            let frame = VarlinkReply.frame(error: .tooManyConnections(limit: settings.maxConnections))
            return channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(RefuseHandler(frame: frame))
            }
        }
        metrics?.accepted.increment()
        metrics?.open.increment()
        channel.closeFuture.whenComplete { [self] _ in
            _ = connections.withLock { $0.removeValue(forKey: id) }
            metrics?.open.decrement()
        }
        return channel.eventLoop.makeCompletedFuture {
            let decoder = ByteToMessageHandler(VarlinkFrameDecoder(maxFrameBytes: settings.maxMessageBytes))
            let idle = IdleStateHandler(readTimeout: .milliseconds(Int64(settings.idleTimeoutSeconds * 1000)))
            if case .tls(_, _, let context) = target {
                try channel.pipeline.syncOperations.addHandlers([
                    NIOSSLServerHandler(context: context), decoder, idle, CertificateIdentityHandler(logger: logger), CallHandler(shared),
                ])
            } else {
                try channel.pipeline.syncOperations.addHandlers([decoder, idle, PeerCredentialsHandler(access: access), CallHandler(shared)])
            }
        }
    }

    /// After the listener closed: read no more calls, let the engine answer every call already
    /// read, then close each connection once those answers are written. An engine that is stuck
    /// does not hold the daemon up for more than ten seconds.
    private func drainConnections() async {
        let open = connections.withLock { Array($0.values) }
        for channel in open { channel.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in } }
        if !(await engine.barrier(timeoutSeconds: 10)) {
            logger.error("the engine did not answer in-flight calls within 10 s; closing connections anyway")
        }
        // Replies reach a connection as tasks on its event loop; a task queued now runs after them.
        for channel in connections.withLock({ Array($0.values) }) {
            let closed = channel.eventLoop.flatSubmit { channel.close() }
            try? await closed.get()
        }
    }
}

/// Answers a connection the daemon cannot take with one error frame, then closes it.
final class RefuseHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let frame: [UInt8]

    init(frame: [UInt8]) { self.frame = frame }

    func channelActive(context: ChannelHandlerContext) {
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(channel.allocator.buffer(bytes: frame))).whenComplete { _ in
            channel.close(promise: nil)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}
}

#if canImport(Glibc)
import Glibc
#endif
