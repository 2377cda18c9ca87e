import KarstConfig
import NIOSSL

/// The TLS side of `[agents]`: the daemon's certificate and key, and the CA every agent's
/// certificate must chain to. Client certificates are required and verified (chain and
/// validity period, not a host name: an agent is identified by the data centre its certificate
/// names, not by where it connects from). TLS 1.2 at least.
public enum AgentTLSContext {
    /// Why the files do not make a TLS server; names the file and the key of `[agents]`.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    public static func make(_ settings: AgentListenSettings) throws -> NIOSSLContext {
        guard let caFile = settings.caFile, let certificateFile = settings.certificateFile, let keyFile = settings.keyFile else {
            throw Failure(description: "[agents] listen needs ca, certificate and key")
        }
        func load<T>(_ key: String, _ path: String, _ body: () throws -> T) throws -> T {
            do { return try body() } catch {
                throw Failure(description: "[agents] \(key) = \"\(path)\": not a readable PEM file (\(error))")
            }
        }
        let chain = try load("certificate", certificateFile) { try NIOSSLCertificate.fromPEMFile(certificateFile) }
        let key = try load("key", keyFile) { try NIOSSLPrivateKey(file: keyFile, format: .pem) }
        let roots = try load("ca", caFile) { try NIOSSLCertificate.fromPEMFile(caFile) }
        var tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        tls.trustRoots = .certificates(roots)
        tls.certificateVerification = .noHostnameVerification
        tls.minimumTLSVersion = .tlsv12
        do { return try NIOSSLContext(configuration: tls) } catch {
            throw Failure(description: "[agents] certificate and key do not make a TLS server (do they match?): \(error)")
        }
    }
}
