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
    /// Finished jobs and events older than this many days are pruned from the store and memory.
    public var retentionDays = 7.0

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
        t.finish()
        return s
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
