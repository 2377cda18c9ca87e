import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Prometheus
import ServiceLifecycle

/// An optional plain-HTTP endpoint for Prometheus to scrape (`GET /metrics`), off by default.
/// Meant for loopback: it serves only metrics and carries no credentials.
public final class MetricsHTTPServer: Service, Sendable {
    /// Where to listen.
    public enum Target: Sendable, CustomStringConvertible {
        case address(host: String, port: Int)
        /// A socket passed by systemd (`FileDescriptorName=metrics`).
        case activated(fd: Int32)

        public var description: String {
            switch self {
            case .address(let host, let port): "http://\(host):\(port)/metrics"
            case .activated(let fd): "socket-activated fd \(fd) (metrics)"
            }
        }
    }

    let target: Target
    let registry: PrometheusCollectorRegistry
    let group: EventLoopGroup
    let logger: Logger

    public init(target: Target, registry: PrometheusCollectorRegistry, group: EventLoopGroup, logger: Logger) {
        self.target = target
        self.registry = registry
        self.group = group
        self.logger = logger
    }

    public func run() async throws {
        let registry = self.registry
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(MetricsHTTPHandler(registry: registry))
                }
            }
        let channel: Channel
        switch target {
        case .address(let host, let port):
            do { channel = try await bootstrap.bind(host: host, port: port).get() } catch {
                throw ListenFailure(description: "metrics on \(host):\(port): cannot listen there: \(error)")
            }
        case .activated(let fd): channel = try await bootstrap.withBoundSocket(fd).get()
        }
        logger.notice("metrics on \(target)")
        await serveUntilShutdown(channel)
    }
}

final class MetricsHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let registry: PrometheusCollectorRegistry
    private var head: HTTPRequestHead?

    init(registry: PrometheusCollectorRegistry) { self.registry = registry }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h): head = h
        case .body: break
        case .end:
            guard let head else { return }
            let ok = head.method == .GET && (head.uri == "/metrics" || head.uri.hasPrefix("/metrics?"))
            let body = ok ? registry.emitToBuffer() : Array("not found: try /metrics\n".utf8)
            var headers = HTTPHeaders()
            if !head.isKeepAlive { headers.add(name: "Connection", value: "close") }
            headers.add(name: "Content-Type", value: ok ? "text/plain; version=0.0.4" : "text/plain")
            headers.add(name: "Content-Length", value: String(body.count))
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: ok ? .ok : .notFound,
                                                                  headers: headers))), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
            let keepAlive = head.isKeepAlive
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
                if !keepAlive { channel.close(promise: nil) }
            }
            self.head = nil
        }
    }
}

/// A listener that could not bind, named by what it is for and where.
struct ListenFailure: Error, CustomStringConvertible {
    var description: String
}
