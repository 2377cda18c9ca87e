#if canImport(Glibc)
import Glibc
#endif

/// Preparing the path of the control socket: create its directory, refuse to take over a live
/// daemon's socket, clear a stale one, and set the file's mode and group after binding.
enum SocketFile {
    /// Why the socket path cannot be used.
    struct Unusable: Error, CustomStringConvertible {
        var path: String
        var reason: String
        var description: String { "cannot serve on \(path): \(reason)" }
    }

    /// Creates the parent directory (mode 0755) and removes a stale socket file. Throws when a
    /// daemon answers on the path, or the path is something other than a socket.
    static func prepare(_ path: String) throws {
        guard path.utf8.count < 108 else { throw Unusable(path: path, reason: "the path is longer than 107 bytes") }
        try makeDirectories(parent(of: path))
        var st = stat()
        guard lstat(path, &st) == 0 else { return }
        guard (st.st_mode & S_IFMT) == S_IFSOCK else {
            throw Unusable(path: path, reason: "it exists and is not a socket")
        }
        if answers(path) { throw Unusable(path: path, reason: "another daemon is serving it") }
        guard unlink(path) == 0 || errno == ENOENT else {
            throw Unusable(path: path, reason: "cannot remove the stale socket: \(String(cString: strerror(errno)))")
        }
    }

    /// Sets the socket file's permission bits and, if given, its group.
    static func finish(_ path: String, mode: UInt16, group: UInt32?) throws {
        if let group, chown(path, UInt32.max, group) != 0 {
            throw Unusable(path: path, reason: "cannot give it to group \(group): \(String(cString: strerror(errno)))")
        }
        guard chmod(path, mode_t(mode)) == 0 else {
            throw Unusable(path: path, reason: "cannot set its mode: \(String(cString: strerror(errno)))")
        }
    }

    /// Whether something accepts connections on the socket at `path`.
    static func answers(_ path: String) -> Bool {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in path.utf8.enumerated() where i < raw.count - 1 { raw[i] = b }
        }
        return withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) == 0
            }
        }
    }

    static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    static func makeDirectories(_ dir: String) throws {
        var st = stat()
        if stat(dir, &st) == 0 { return }
        let up = parent(of: dir)
        if up != dir { try makeDirectories(up) }
        guard mkdir(dir, 0o755) == 0 || errno == EEXIST else {
            throw Unusable(path: dir, reason: "cannot create the directory: \(String(cString: strerror(errno)))")
        }
    }
}
