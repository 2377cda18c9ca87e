/// `HOST:PORT` as the daemon's and the agent's options and `[agents] listen` take it: the port
/// from 1 to 65535 after the last colon, an IPv6 host in brackets (`[::]:7443`), the host not
/// empty and without spaces.
public enum HostPort {
    /// The host (brackets removed) and port, or nil when `text` is not one.
    public static func parse(_ text: String) -> (host: String, port: Int)? {
        guard let colon = text.lastIndex(of: ":"), colon != text.startIndex,
              let port = Int(text[text.index(after: colon)...]), (1...65_535).contains(port)
        else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty, !host.contains(" ") else { return nil }
        return (host, port)
    }
}
