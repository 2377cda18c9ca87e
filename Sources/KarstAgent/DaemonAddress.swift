/// Where a site agent reaches a daemon (or one replica of it).
public enum DaemonAddress: Sendable, CustomStringConvertible {
    /// Its Unix socket (an agent on the daemon's host).
    case socket(String)
    /// Its `[agents]` listen address, over mutual TLS (a remote agent).
    case remote(RemoteDaemon)

    public var description: String {
        switch self {
        case .socket(let path): path
        case .remote(let r): r.host.contains(":") ? "[\(r.host)]:\(r.port)" : "\(r.host):\(r.port)"
        }
    }
}
