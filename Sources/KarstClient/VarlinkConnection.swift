import KarstProtocol

#if canImport(Glibc)
import Glibc
#endif

/// Why a client call failed below the Varlink level.
public enum ClientError: Error, CustomStringConvertible, Sendable {
    /// The socket could not be reached.
    case connect(path: String, reason: String)
    /// Reading or writing failed.
    case io(String)
    /// The daemon closed the connection.
    case closed
    /// The daemon sent something that is not a Varlink reply.
    case malformed(String)

    public var description: String {
        switch self {
        case .connect(let path, let reason): "cannot connect to \(path): \(reason)"
        case .io(let reason): "connection error: \(reason)"
        case .closed: "the daemon closed the connection"
        case .malformed(let reason): "malformed reply: \(reason)"
        }
    }
}

/// A byte stream a `VarlinkConnection` runs over instead of its Unix socket (a remote agent's
/// TLS connection). Same thread rules as the connection.
public protocol VarlinkTransport: AnyObject, Sendable {
    /// Writes every byte.
    func write(_ bytes: [UInt8]) throws(ClientError)
    /// Reads what is there (waiting for something): the count, 0 once the peer closed.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(ClientError) -> Int
    /// Reads give up after this long without data (0: never).
    func setReceiveTimeout(seconds: Double)
    func close()
}

/// A blocking Varlink connection over a Unix socket (or a `VarlinkTransport`): write framed
/// calls, read framed replies.
/// Calls may be pipelined (send many, then read).
///
/// Thread use: at most one thread sends and at most one thread receives at a time (they may be
/// two different threads: `send` touches only the socket, `receive*` only the read buffer), which
/// is why the class is `@unchecked Sendable`.
public final class VarlinkConnection: @unchecked Sendable {
    public let path: String
    private let fd: Int32
    /// Used instead of `fd` when set.
    private let transport: (any VarlinkTransport)?
    private let buffer = ReceiveBuffer()
    private var isClosed = false
    private var receiveTimeout: Double?

    /// Connects to the socket at `path`.
    public init(path: String) throws(ClientError) {
        self.path = path
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw .connect(path: path, reason: String(cString: strerror(errno))) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        guard path.utf8.count < MemoryLayout.size(ofValue: addr.sun_path) else {
            Glibc.close(fd)
            throw .connect(path: path, reason: "path too long")
        }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in path.utf8.enumerated() { raw[i] = b }
        }
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard rc == 0 else {
            let reason = String(cString: strerror(errno))
            Glibc.close(fd)
            throw .connect(path: path, reason: reason)
        }
        self.fd = fd
        transport = nil
    }

    /// A connection over `transport`; `description` names the peer (as `path` does).
    public init(transport: any VarlinkTransport, description: String) {
        path = description
        fd = -1
        self.transport = transport
    }

    deinit { if !isClosed { close() } }

    /// Makes every read give up after `seconds` without data (`ClientError.io`), instead of
    /// waiting for ever: for tests and scripts that must not hang on a stuck daemon.
    public func setReceiveTimeout(seconds: Double) {
        receiveTimeout = seconds
        if let transport { return transport.setReceiveTimeout(seconds: seconds) }
        var tv = timeval(tv_sec: Int(seconds), tv_usec: Int((seconds - seconds.rounded(.down)) * 1_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Ends the connection both ways and wakes a thread blocked reading it, but keeps its
    /// descriptor until the connection is released (or closed): a reader on another thread can
    /// never go on to read from the descriptor's number reused by a newer connection, as it
    /// could after `close` from another thread.
    public func shutdown() {
        guard !isClosed else { return }
        if let transport { transport.close() } else { _ = Glibc.shutdown(fd, Int32(SHUT_RDWR)) }
    }

    /// Closes the connection.
    public func close() {
        guard !isClosed else { return }
        isClosed = true
        if let transport { transport.close() } else { Glibc.close(fd) }
    }

    /// Writes bytes (one or more framed calls).
    public func send(_ bytes: [UInt8]) throws(ClientError) {
        if let transport { return try transport.write(bytes) }
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .io(String(cString: strerror(errno)))
            }
            offset += n
        }
    }

    /// Reads until a whole framed message is buffered; `body` gets it without its NUL (valid only
    /// during the call).
    private func withNextFrame<R>(_ body: (UnsafeBufferPointer<UInt8>) -> R) throws(ClientError) -> R {
        while true {
            if let frame = buffer.nextFrame() { return body(frame) }
            let fd = self.fd, transport = self.transport, timeout = receiveTimeout
            let n = try buffer.fill { room throws(ClientError) -> Int in
                if let transport { return try transport.read(into: room) }
                while true {
                    let n = recv(fd, room.baseAddress, room.count, 0)
                    if n >= 0 { return n }
                    if errno == EINTR { continue }
                    if errno == EAGAIN || errno == EWOULDBLOCK, let timeout { throw .io("no reply within \(timeout) s") }
                    throw .io(String(cString: strerror(errno)))
                }
            }
            if n == 0 { throw .closed }
        }
    }

    /// Reads one reply.
    /// With `keeping`, only the named members of the reply's parameters are built
    /// (`VarlinkReply.parse(_:keeping:)`): for a reader that shows a few members of many.
    public func receive(keeping names: JSONParser.MemberNames? = nil) throws(ClientError) -> VarlinkReply.Parsed {
        let parsed = try withNextFrame { bytes in
            Result { () throws(VarlinkError) in try VarlinkReply.parse(bytes, keeping: names) }
        }
        do { return try parsed.get() } catch { throw .malformed(error.description) }
    }

    /// One call, one reply: returns the reply's parameters, or throws the Varlink error.
    /// With `keeping`, only the named members of the reply are built (`receive(keeping:)`).
    public func call(_ method: String, _ parameters: JSONObject = [:], keeping names: JSONParser.MemberNames? = nil) throws -> JSONObject {
        try exchange(VarlinkCall(method: method, parameters: parameters).framed, keeping: names)
    }

    /// One call whose parameters, a wire value, are written straight into the frame
    /// (`VarlinkCall.frame(method:parameters:)`).
    public func call<P: WireValue>(_ method: String, parameters: P) throws -> JSONObject {
        try exchange(VarlinkCall.frame(method: method, parameters: parameters))
    }

    /// One call whose parameters are written by `body`.
    public func call(_ method: String, _ body: (inout JSONWriter) -> Void) throws -> JSONObject {
        try exchange(VarlinkCall.frame(method: method, body))
    }

    /// Sends one framed call and reads its reply: the reply's parameters, or its Varlink error
    /// thrown.
    private func exchange(_ frame: [UInt8], keeping names: JSONParser.MemberNames? = nil) throws -> JSONObject {
        try send(frame)
        let reply = try receive(keeping: names)
        if let error = reply.error { throw error }
        return reply.parameters
    }

    /// Starts a streaming call (`more`); read the replies with `receive()` until one has
    /// `continues == false`.
    public func stream(_ method: String, _ parameters: JSONObject = [:]) throws(ClientError) {
        try send(VarlinkCall(method: method, parameters: parameters, more: true).framed)
    }
}
