/// Who is on the other end of a connection, from the kernel (`SO_PEERCRED`), and what they may do.
public struct Caller: Hashable, Sendable, CustomStringConvertible {
    public var pid: Int32
    public var uid: UInt32
    public var gid: UInt32
    /// The user name for `uid` (the default tenant), or the number when it has none.
    public var user: String
    /// Root or a member of an admin group: everything, on behalf of any tenant.
    public var isAdmin: Bool
    /// May submit, and cancel, hold or release its own jobs.
    public var canSubmit: Bool
    /// May report completions.
    public var canExecute: Bool
    /// A remote agent's (TLS): the data centre its certificate names, the only one it may act
    /// for, and where it connects from. Nil for a caller on the Unix socket.
    public var datacenter: String?
    public var peer: String?

    public init(pid: Int32, uid: UInt32, gid: UInt32, user: String, isAdmin: Bool, canSubmit: Bool, canExecute: Bool) {
        self.pid = pid
        self.uid = uid
        self.gid = gid
        self.user = user
        self.isAdmin = isAdmin
        self.canSubmit = canSubmit || isAdmin
        self.canExecute = canExecute || isAdmin
    }

    /// An in-process administrator (tests, the daemon's own signal handlers).
    public static let internalAdmin = Caller(pid: 0, uid: 0, gid: 0, user: "root", isAdmin: true, canSubmit: true,
                                             canExecute: true)

    /// A remote site agent whose verified certificate names `datacenter`: the executor role for
    /// that data centre only, nothing else.
    public static func remoteAgent(datacenter: String, peer: String) -> Caller {
        var c = Caller(pid: 0, uid: UInt32.max, gid: UInt32.max, user: "agent of \(datacenter)", isAdmin: false, canSubmit: false,
                       canExecute: true)
        c.datacenter = datacenter
        c.peer = peer
        return c
    }

    public var description: String {
        if let datacenter { return "remote agent of \(datacenter) at \(peer ?? "?") (TLS)" }
        return "uid=\(uid)(\(user)) pid=\(pid)"
    }
}
