/// What a client tells its user, or logs, of a `NotLeader` answer (karstctl, site agents).
extension ProtocolInterface.NotLeader {
    /// Decoded from an error, when it is one (leniently: a newer daemon may add members).
    public init?(_ error: VarlinkError) {
        guard error.name == Self.name, let n = try? Self(object: error.parameters, path: .root, strict: false) else { return nil }
        self = n
    }

    /// Who leads and where to call it; without a leader named, that none is known (none holds
    /// the lease yet, or, to an agent, this replica's own term is over).
    public var explanation: String {
        guard let leader else { return "this replica does not lead and names no leader (epoch \(epoch)); retry" }
        return "this replica is a standby; \(leader) leads (epoch \(epoch))" + (address.map { ": call it at \($0)" } ?? "")
    }
}
