import Logging
import NIOCore
import NIOSSL
import NIOTLS
import SwiftASN1

/// For a connection of a remote site agent (TCP with mutual TLS): once the handshake is done,
/// the peer's certificate — verified by the TLS handler against `[agents] ca`, expiry included —
/// names the data centre the agent may serve, in its subject's common name. Announces the
/// caller (`PeerCredentials`: the executor role, bound to that data centre) before any frame
/// goes on; frames that arrive earlier wait, in order. A failed handshake (plaintext, an
/// untrusted or expired certificate, none at all) is logged with the peer's address and why,
/// and the connection closed.
final class CertificateIdentityHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let logger: Logger
    private var known = false
    private var early: [ByteBuffer] = []
    private var peer = "?"

    init(logger: Logger) { self.logger = logger }

    func channelActive(context: ChannelHandlerContext) {
        peer = context.channel.remoteAddress.map { "\($0)" } ?? "?"
        context.fireChannelActive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard let tls = event as? TLSUserEvent, case .handshakeCompleted = tls else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        let certificate = try? context.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self).peerCertificate
        guard let datacenter = certificate.flatMap({ try? $0.toDERBytes() }).flatMap(CertificateName.commonName(der:)),
              !datacenter.isEmpty
        else {
            logger.warning("refused a remote agent from \(peer): its certificate names no data centre (no subject CN)",
                           metadata: ["peer": "\(peer)"])
            context.close(promise: nil)
            return
        }
        logger.info("remote agent connection from \(peer): certificate of data centre \(datacenter)",
                    metadata: ["peer": "\(peer)", "datacenter": "\(datacenter)"])
        known = true
        context.fireUserInboundEventTriggered(PeerCredentials(caller: .remoteAgent(datacenter: datacenter, peer: peer)))
        let waiting = early
        early = []
        for frame in waiting { context.fireChannelRead(wrapInboundOut(frame)) }
        if !waiting.isEmpty { context.fireChannelReadComplete() }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard known else {
            early.append(unwrapInboundIn(data))
            return
        }
        context.fireChannelRead(data)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        guard !known, error is NIOSSLError || error is BoringSSLError else {
            context.fireErrorCaught(error)
            return
        }
        logger.warning("refused a remote agent from \(peer): \(Self.diagnose(error))", metadata: ["peer": "\(peer)"])
        context.close(promise: nil)
    }

    /// What a failed handshake means, in the operator's words, with the TLS library's own.
    static func diagnose(_ error: Error) -> String {
        let text = "\(error)"
        // First what the agent said of the daemon's certificate (an alert it sent), then what the
        // daemon found wrong with the agent's.
        let says: [(String, String)] = [
            ("ALERT_UNKNOWN_CA", "the agent does not trust this daemon's certificate (its --ca is another CA)"),
            ("ALERT_CERTIFICATE_EXPIRED", "the agent finds this daemon's certificate expired"),
            ("ALERT_BAD_CERTIFICATE", "the agent refused this daemon's certificate"),
            ("CERTIFICATE_VERIFY_FAILED",
             "its certificate failed verification against [agents] ca: signed by another CA, or expired (the agent's log says which)"),
            ("PEER_DID_NOT_RETURN_A_CERTIFICATE", "it sent no client certificate"),
            ("WRONG_VERSION_NUMBER", "not TLS (plaintext?)"),
            ("HTTP_REQUEST", "not TLS (plain HTTP)"),
            ("UNEXPECTED_RECORD", "not TLS (plaintext?)"),
        ]
        for (code, meaning) in says where text.contains(code) { return "\(meaning) [\(text)]" }
        return "TLS handshake failed [\(text)]"
    }
}

/// The subject common name of a DER certificate (the last one, as TLS libraries take it).
enum CertificateName {
    static func commonName(der: [UInt8]) -> String? {
        guard let certificate = try? DER.parse(der), case .constructed(let parts) = certificate.content,
              let tbs = parts.first(where: { _ in true }), case .constructed(let tbsFields) = tbs.content
        else { return nil }
        // TBSCertificate: [0] version (optional), serial, signature, issuer, validity, subject, …
        var fields = Array(tbsFields)
        if let first = fields.first, first.identifier.tagClass == .contextSpecific { fields.removeFirst() }
        guard fields.count > 4, case .constructed(let names) = fields[4].content else { return nil }
        let commonName: ASN1ObjectIdentifier = [2, 5, 4, 3]
        var found: String?
        for rdn in names {
            guard case .constructed(let attributes) = rdn.content else { continue }
            for attribute in attributes {
                guard case .constructed(let pair) = attribute.content else { continue }
                let items = Array(pair)
                guard items.count == 2, (try? ASN1ObjectIdentifier(derEncoded: items[0])) == commonName,
                      case .primitive(let value) = items[1].content else { continue }
                found = String(decoding: value, as: UTF8.self)
            }
        }
        return found
    }
}
