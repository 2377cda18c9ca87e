/// A demand region whose workloads reach the hub over the network (`bth`, `yrd`, `gba`, `cc`, `local`).
public struct Region: Hashable, Sendable {
    /// Short stable id used in job specs (`origin`) and in each data centre's RTT table.
    public var id: String
    /// Human-readable name, e.g. "Beijing–Tianjin–Hebei".
    public var name: String

    public init(id: String, name: String) {
        self.id = id
        self.name = name
    }
}
