/// Where remote site agents connect (`[agents]`): TCP with mutual TLS. Off while `listen` is
/// nil; when set, the CA, certificate and key files are required. An agent's client
/// certificate must be signed by `ca` and names, in its subject's common name, the one data
/// centre it may serve. Read at start: a reload that changes them is refused (restart).
public struct AgentListenSettings: Hashable, Sendable {
    /// `HOST:PORT` (`[::]:7443` for IPv6).
    public var listen: String?
    public var host = ""
    public var port = 0
    /// PEM: the CA that signs agents' certificates.
    public var caFile: String?
    /// PEM: the daemon's certificate (chain) and its private key.
    public var certificateFile: String?
    public var keyFile: String?

    public init() {}

    /// Splits `HOST:PORT`; nil when it is not one (port 1–65535).
    public static func split(_ address: String) -> (host: String, port: Int)? {
        guard let colon = address.lastIndex(of: ":"), colon != address.startIndex,
              let port = Int(address[address.index(after: colon)...]), (1...65_535).contains(port)
        else { return nil }
        var host = String(address[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty, !host.contains(" ") else { return nil }
        return (host, port)
    }
}

extension TopologyReader {
    func readAgents(_ root: inout TableReader) -> AgentListenSettings {
        var a = AgentListenSettings()
        guard var t = root.table("agents") else { return a }
        a.caFile = t.string("ca")
        a.certificateFile = t.string("certificate")
        a.keyFile = t.string("key")
        if let listen = t.string("listen") {
            if let (host, port) = AgentListenSettings.split(listen) {
                a.listen = listen
                a.host = host
                a.port = port
                for (key, value) in [("ca", a.caFile), ("certificate", a.certificateFile), ("key", a.keyFile)] where value == nil {
                    t.add(key, "is required with listen (a PEM file): remote agents connect with mutual TLS only")
                }
            } else {
                t.add("listen", "must be HOST:PORT with a port from 1 to 65535 (\"0.0.0.0:7443\", \"[::]:7443\"), not \"\(listen)\"")
            }
        }
        t.finish()
        return a
    }
}
