/// Where remote site agents connect (`[agents]`): TCP with mutual TLS. Off while `listen` is
/// nil; when set, the CA, certificate and key files are required. An agent's client
/// certificate must be signed by `ca` and names, in its subject's common name, the one data
/// centre it may serve. Read at start: a reload that changes them takes effect at the next
/// restart (and says so).
public struct AgentListenSettings: Hashable, Sendable {
    /// `HOST:PORT` (`[::]:7443` for IPv6); only a valid one is kept (`HostPort`).
    public var listen: String?
    /// `listen`'s host and port ("" and 0 while off).
    public var host: String { listen.flatMap(HostPort.parse)?.host ?? "" }
    public var port: Int { listen.flatMap(HostPort.parse)?.port ?? 0 }
    /// PEM: the CA that signs agents' certificates.
    public var caFile: String?
    /// PEM: the daemon's certificate (chain) and its private key.
    public var certificateFile: String?
    public var keyFile: String?

    public init() {}
}

extension TopologyReader {
    func readAgents(_ root: inout TableReader) -> AgentListenSettings {
        var a = AgentListenSettings()
        guard var t = root.table("agents") else { return a }
        a.caFile = t.string("ca")
        a.certificateFile = t.string("certificate")
        a.keyFile = t.string("key")
        if let listen = t.string("listen") {
            if HostPort.parse(listen) != nil {
                a.listen = listen
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
