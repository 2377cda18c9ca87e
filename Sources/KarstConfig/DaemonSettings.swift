import KarstCore

/// How the daemon serves its control socket (`[server]`).
public struct ServerSettings: Hashable, Sendable {
    /// Largest accepted message, in bytes, before its terminating NUL.
    public var maxMessageBytes = 1 << 20
    /// Connections served at once; the next one is answered `TooManyConnections` and closed.
    public var maxConnections = 1024
    /// A connection with nothing in flight and no watch is closed after this long without input.
    public var idleTimeoutSeconds = 300.0
    /// Calls one connection may have in flight before the daemon stops reading from it.
    public var maxCallsInFlight = 4096
    /// Events a Watch may fall behind before it is ended with `SlowConsumer`.
    public var watchBufferEvents = 10_000
    /// Permission bits of the socket file.
    public var socketMode: UInt16 = 0o660

    public init() {}
}

/// Durable state (`[state]`).
public struct StateSettings: Hashable, Sendable {
    /// Where the state is kept.
    public enum Backend: String, Hashable, Sendable, CaseIterable {
        /// One SQLite file in the state directory: one machine (the default).
        case sqlite
        /// A PostgreSQL database shared by replicas, one of which leads (`[state.postgres]`).
        case postgres
    }

    public var backend = Backend.sqlite
    /// Finished jobs and events older than this many days are pruned from the store and memory.
    public var retentionDays = 7.0
    /// The database, with `backend = "postgres"`.
    public var postgres: PostgresSettings?

    public init() {}
}

/// Where the PostgreSQL state is and how this replica takes part in leading (`[state.postgres]`).
public struct PostgresSettings: Hashable, Sendable {
    /// A socket directory (an absolute path) or a host name or address.
    public var host = "/run/postgresql"
    public var port = 5432
    public var database = "karst"
    public var user = "karst"
    /// A file holding the password (its first line). Never on the command line.
    public var passwordFile: String?
    /// The password is systemd's credential of this name (`LoadCredential=`), read from
    /// `$CREDENTIALS_DIRECTORY`.
    public var passwordCredential: String?
    /// This replica's name in the leader lease: unique among the replicas. The host name when nil.
    public var replica: String?
    /// Where clients and agents reach this replica when it leads, as standbys name it.
    public var address: String?
    /// How long a leader's lease lasts without renewal; a standby takes over after it.
    public var leaseSeconds = 10.0
    /// How often the leader renews (well within the lease).
    public var renewSeconds = 2.0

    public init() {}
}

/// Who may do what (`[access]`), by group name. Root is always an admin.
public struct AccessSettings: Hashable, Sendable {
    /// Group that owns the socket file; the daemon's own group when nil.
    public var socketGroup: String?
    /// Members may do everything, for any tenant.
    public var adminGroups: [String] = []
    /// Members may submit, and cancel, hold or release their own jobs; everyone when empty.
    public var submitGroups: [String] = []
    /// Members may report completions (`Complete`).
    public var executorGroups: [String] = []

    public init() {}
}

extension TopologyReader {
    func readServer(_ root: inout TableReader) -> ServerSettings {
        var s = ServerSettings()
        guard var t = root.table("server") else { return s }
        typealias B = ConfigBounds
        if let v = t.int("max_message_bytes", in: B.maxMessageBytes) { s.maxMessageBytes = v }
        if let v = t.int("max_connections", in: B.maxConnections) { s.maxConnections = v }
        if let v = t.number("idle_timeout_seconds", in: B.idleTimeoutSeconds) { s.idleTimeoutSeconds = v }
        if let v = t.int("max_calls_in_flight", in: B.maxCallsInFlight) { s.maxCallsInFlight = v }
        if let v = t.int("watch_buffer_events", in: B.watchBufferEvents) { s.watchBufferEvents = v }
        if let v = t.string("socket_mode") {
            if let mode = UInt16(v, radix: 8), mode <= 0o777 { s.socketMode = mode } else {
                t.add("socket_mode", "must be an octal mode such as \"0660\"")
            }
        }
        t.finish()
        return s
    }

    func readState(_ root: inout TableReader) -> StateSettings {
        var s = StateSettings()
        guard var t = root.table("state") else { return s }
        if let v = t.number("retention_days", in: ConfigBounds.retentionDays) { s.retentionDays = v }
        if let name = t.string("backend") {
            if let b = StateSettings.Backend(rawValue: name) { s.backend = b } else {
                t.add("backend", "must be \"sqlite\" or \"postgres\", not \"\(name)\"")
            }
        }
        if var p = t.table("postgres") {
            s.postgres = readPostgres(&p)
        } else if s.backend == .postgres {
            s.postgres = PostgresSettings()
        }
        t.finish()
        return s
    }

    func readPostgres(_ t: inout TableReader) -> PostgresSettings {
        var p = PostgresSettings()
        typealias B = ConfigBounds
        if let v = t.string("host") {
            if v.isEmpty { t.add("host", "must name a socket directory or a host") } else { p.host = v }
        }
        if let v = t.int("port", in: B.port) { p.port = v }
        if let v = t.string("database") { p.database = v }
        if let v = t.string("user") { p.user = v }
        p.passwordFile = t.string("password_file")
        p.passwordCredential = t.string("password_credential")
        if p.passwordFile != nil && p.passwordCredential != nil {
            t.add("password_credential", "give password_file or password_credential, not both")
        }
        if let v = t.string("replica") {
            if v.isEmpty || v.utf8.count > 64 || v.contains(where: { $0.isWhitespace }) {
                t.add("replica", "must be 1 to 64 characters without spaces")
            } else {
                p.replica = v
            }
        }
        p.address = t.string("address")
        if let v = t.number("lease_seconds", in: B.leaseSeconds) { p.leaseSeconds = v }
        if let v = t.number("renew_seconds", in: B.renewSeconds) { p.renewSeconds = v }
        if p.renewSeconds * 2 > p.leaseSeconds {
            t.add("renew_seconds", "must be at most half of lease_seconds (\(formatNumber(p.leaseSeconds))), not \(formatNumber(p.renewSeconds))")
        }
        t.finish()
        return p
    }

    func readAccess(_ root: inout TableReader) -> AccessSettings {
        var a = AccessSettings()
        guard var t = root.table("access") else { return a }
        a.socketGroup = t.string("socket_group")
        a.adminGroups = t.strings("admin_groups") ?? []
        a.submitGroups = t.strings("submit_groups") ?? []
        a.executorGroups = t.strings("executor_groups") ?? []
        t.finish()
        return a
    }
}
