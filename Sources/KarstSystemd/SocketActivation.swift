import CSystemd

#if canImport(Glibc)
import Glibc
#endif

/// Sockets passed by systemd (sd_listen_fds_with_names(3)), looked up by name — their order is
/// not stable across runs.
public enum SocketActivation {
    /// The passed file descriptors by name (`FileDescriptorName=`). Empty when not activated.
    public static func listeningSockets() -> [String: Int32] {
        var names: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = nil
        let n = sd_listen_fds_with_names(1, &names)
        guard n > 0 else { return [:] }
        defer {
            for i in 0..<Int(n) { free(names?[i]) }
            free(names)
        }
        var out: [String: Int32] = [:]
        for i in 0..<Int(n) {
            let name = names?[i].map { String(cString: $0) } ?? "unknown"
            out[name] = SD_LISTEN_FDS_START + Int32(i)
        }
        return out
    }
}
