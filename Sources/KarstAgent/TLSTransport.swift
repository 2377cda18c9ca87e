import Foundation
import KarstClient
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS

/// Where and how a remote agent reaches the daemon: `HOST:PORT` over TCP with mutual TLS, the
/// agent's certificate (whose common name is its data centre) and key, and the CA that signed
/// the daemon's certificate.
public struct RemoteDaemon: Sendable {
    public var host: String
    public var port: Int
    public var context: NIOSSLContext

    /// Reads the files now, so a wrong path or a bad PEM fails at start with its name.
    public init(host: String, port: Int, ca: String, certificate: String, key: String) throws {
        self.host = host
        self.port = port
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        tls.certificateVerification = .fullVerification
        do { tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(ca)) } catch {
            throw AgentFailure.tls("--ca \(ca): not a readable PEM certificate file (\(error))")
        }
        do { tls.certificateChain = try NIOSSLCertificate.fromPEMFile(certificate).map { .certificate($0) } } catch {
            throw AgentFailure.tls("--cert \(certificate): not a readable PEM certificate file (\(error))")
        }
        do { tls.privateKey = .privateKey(try NIOSSLPrivateKey(file: key, format: .pem)) } catch {
            throw AgentFailure.tls("--key \(key): not a readable PEM private key (\(error))")
        }
        do { context = try NIOSSLContext(configuration: tls) } catch {
            throw AgentFailure.tls("the certificate and key do not make a TLS client (\(error))")
        }
    }

    /// A Varlink connection to the daemon, the TLS handshake done.
    public func connect(timeoutSeconds: Double) throws -> VarlinkConnection {
        VarlinkConnection(transport: try TLSTransport(self, timeoutSeconds: timeoutSeconds), description: "\(host):\(port)")
    }
}

/// A blocking byte stream over a NIO channel with TLS, for `VarlinkConnection`: bytes read on
/// the event loop wait in a buffer until the agent's thread takes them.
final class TLSTransport: VarlinkTransport, @unchecked Sendable {
    private let channel: Channel
    private let inbox: Inbox
    private var timeout: Double?

    /// What the channel hands over: bytes, and how it ended.
    final class Inbox: @unchecked Sendable {
        let condition = NSCondition()
        var bytes: [UInt8] = []
        var ended: String?
        var handshake: Result<Void, Error>?

        func update(_ body: (Inbox) -> Void) {
            condition.lock()
            body(self)
            condition.broadcast()
            condition.unlock()
        }
    }

    init(_ remote: RemoteDaemon, timeoutSeconds: Double) throws(ClientError) {
        let inbox = Inbox()
        self.inbox = inbox
        // Server name indication wants a name; an address is checked against the certificate's
        // IP addresses instead.
        let isAddress = (try? SocketAddress(ipAddress: remote.host, port: 0)) != nil
        let context = remote.context
        let bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.milliseconds(Int64(timeoutSeconds * 1000)))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let tls = try NIOSSLClientHandler(context: context, serverHostname: isAddress ? nil : remote.host)
                    try channel.pipeline.syncOperations.addHandler(tls)
                    try channel.pipeline.syncOperations.addHandler(InboxHandler(inbox: inbox))
                }
            }
        let target = "\(remote.host):\(remote.port)"
        do { channel = try bootstrap.connect(host: remote.host, port: remote.port).wait() } catch {
            throw .connect(path: target, reason: "\(error)")
        }
        inbox.condition.lock()
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while inbox.handshake == nil, inbox.condition.wait(until: deadline) {}
        let handshake = inbox.handshake
        inbox.condition.unlock()
        switch handshake {
        case .success: break
        case .failure(let error):
            channel.close(promise: nil)
            throw .connect(path: target, reason: TLSDiagnosis.client(error))
        case nil:
            channel.close(promise: nil)
            throw .connect(path: target, reason: "no TLS handshake within \(timeoutSeconds) s")
        }
    }

    func write(_ bytes: [UInt8]) throws(ClientError) {
        do { try channel.writeAndFlush(channel.allocator.buffer(bytes: bytes)).wait() } catch {
            throw .io(inbox.condition.withLock { inbox.ended } ?? TLSDiagnosis.client(error))
        }
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws(ClientError) -> Int {
        inbox.condition.lock()
        defer { inbox.condition.unlock() }
        // (NSCondition traps on a deadline as far as `distantFuture`: no timeout is a plain wait.)
        let deadline = timeout.map { Date().addingTimeInterval($0) }
        while inbox.bytes.isEmpty && inbox.ended == nil {
            if let deadline {
                if !inbox.condition.wait(until: deadline) { throw .io("no reply within \(timeout ?? 0) s") }
            } else {
                inbox.condition.wait()
            }
        }
        if inbox.bytes.isEmpty {
            if inbox.ended == "" { return 0 }
            throw .io(inbox.ended!)
        }
        let n = min(buffer.count, inbox.bytes.count)
        inbox.bytes.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: n) }
        inbox.bytes.removeFirst(n)
        return n
    }

    func setReceiveTimeout(seconds: Double) { timeout = seconds > 0 ? seconds : nil }

    func close() { channel.close(promise: nil) }
}

/// Hands what the channel reads, and how it ends, to the inbox.
final class InboxHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    let inbox: TLSTransport.Inbox

    init(inbox: TLSTransport.Inbox) { self.inbox = inbox }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        let bytes = buffer.readBytes(length: buffer.readableBytes) ?? []
        inbox.update { $0.bytes += bytes }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let e = event as? TLSUserEvent, case .handshakeCompleted = e { inbox.update { $0.handshake = .success(()) } }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        let text = TLSDiagnosis.client(error)
        inbox.update { box in
            if box.handshake == nil { box.handshake = .failure(error) }
            if box.ended == nil { box.ended = text }
        }
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        inbox.update { box in
            if box.handshake == nil { box.handshake = .failure(ClientError.closed) }
            if box.ended == nil { box.ended = "" }
        }
        context.fireChannelInactive()
    }
}

/// What a TLS failure means, in the agent's words.
enum TLSDiagnosis {
    static func client(_ error: Error) -> String {
        let text = "\(error)"
        let says: [(String, String)] = [
            ("CERTIFICATE_EXPIRED", "the daemon refused this agent's certificate: it has expired (or is not valid yet)"),
            ("UNKNOWN_CA", "the daemon refused this agent's certificate: it is not signed by a CA the daemon trusts ([agents] ca)"),
            ("CERTIFICATE_REQUIRED", "the daemon requires a client certificate (--cert, --key)"),
            ("BAD_CERTIFICATE", "the daemon refused this agent's certificate"),
            ("CERTIFICATE_VERIFY_FAILED", "the daemon's certificate failed verification against --ca (another CA, expired, or not issued for this host)"),
            ("WRONG_VERSION_NUMBER", "the other end does not speak TLS (a plain socket?)"),
        ]
        for (code, meaning) in says where text.contains(code) { return "\(meaning) [\(text)]" }
        return text
    }
}
