import Foundation

/// A raw, non-blocking AF_UNIX stream socket to the daemon, for clients that must send bytes no
/// Varlink library would (the fuzzer, the floods) and see exactly how `connect` fails.
final class FuzzSocket {
    let fd: Int32
    private var closed = false
    private lazy var chunk = [UInt8](repeating: 0, count: 65_536)

    private init(fd: Int32) { self.fd = fd }

    deinit { close() }

    /// Connects without blocking: a full listen backlog is `EAGAIN` at once rather than a wait.
    /// On failure, the `errno` of `connect`.
    static func connect(_ path: String) -> Result<FuzzSocket, FuzzErrno> {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return .failure(FuzzErrno(errno)) }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in path.utf8.prefix(raw.count - 1).enumerated() { raw[i] = b }
        }
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard rc == 0 else {
            let e = errno
            Glibc.close(fd)
            return .failure(FuzzErrno(e))
        }
        return .success(FuzzSocket(fd: fd))
    }

    /// The peer's pid (`SO_PEERCRED`): the daemon's.
    var peerPID: Int32? {
        var cred: (pid: Int32, uid: UInt32, gid: UInt32) = (0, 0, 0)  // struct ucred
        var len = socklen_t(MemoryLayout.size(ofValue: cred))
        return getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 ? cred.pid : nil
    }

    func close() {
        guard !closed else { return }
        closed = true
        Glibc.close(fd)
    }

    /// Writes what it can without blocking; the bytes written, or nil when the peer is gone.
    func write(_ bytes: ArraySlice<UInt8>) -> Int? {
        let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        if n >= 0 { return n }
        return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : nil
    }

    /// Reads what is there into `buffer`; false at end of stream or on an error.
    func read(into buffer: inout [UInt8]) -> Bool {
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n > 0 { buffer.append(contentsOf: chunk[0..<n]); return true }
        return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
    }

    /// Waits up to `seconds` for the socket to be readable (or writable too, when asked).
    /// Returns the `revents`, 0 on timeout.
    func wait(seconds: Double, writable: Bool = false) -> Int16 {
        var p = pollfd(fd: fd, events: Int16(POLLIN) | (writable ? Int16(POLLOUT) : 0), revents: 0)
        let rc = poll(&p, 1, Int32(max(0, seconds * 1000).rounded(.up)))
        return rc > 0 ? p.revents : 0
    }
}

/// A failed system call's `errno`, by its symbolic name where it is a common one.
struct FuzzErrno: Error, Hashable, CustomStringConvertible {
    let code: Int32

    init(_ code: Int32) { self.code = code }

    var description: String {
        let names: [Int32: String] = [EAGAIN: "EAGAIN", ECONNREFUSED: "ECONNREFUSED", ENOENT: "ENOENT", EMFILE: "EMFILE",
                                      ENFILE: "ENFILE", EINTR: "EINTR", ENOBUFS: "ENOBUFS", ETIMEDOUT: "ETIMEDOUT",
                                      ECONNRESET: "ECONNRESET", EPIPE: "EPIPE", EACCES: "EACCES"]
        return names[code] ?? "errno \(code) (\(String(cString: strerror(code))))"
    }
}

/// The monotonic clock, in seconds.
func fuzzClock() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
