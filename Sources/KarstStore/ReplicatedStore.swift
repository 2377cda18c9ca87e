import KarstCore

/// A store several replicas share, one of which leads by holding a lease with an epoch that
/// fences every write (`PostgresStore`). The daemon waits as a standby until `acquire` gives it
/// the lease, then keeps it with `renew`.
public protocol ReplicatedStore: StateStore {
    /// This replica's name in the lease.
    var replica: String { get }
    /// How often the lease is to be renewed.
    var renewSeconds: Double { get }
    /// Where the state is, for messages (`karst@/run/postgresql`).
    var location: String { get }
    /// Takes the lease if it has expired (or this replica's name holds it); the new epoch, or nil
    /// when another replica holds it.
    func acquire(address: String?) throws(StoreError) -> UInt64?
    /// Extends the lease held; false when another replica holds it now (the term is over).
    func renew() throws(StoreError) -> Bool
    /// Who holds the lease, as the shared store sees it now.
    func leader() throws(StoreError) -> LeaseHolder
    /// This replica's term as its own clock sees it.
    var currentTerm: LeaderTerm { get }
    /// Whether this replica's term lets it write now, by its own clock (`LeaderTerm.mayWrite`).
    var mayWriteNow: Bool { get }
}

/// The lease's row: the replica named in it (the last holder, if it expired), where it serves,
/// the epoch, and the seconds left by the shared store's clock (≤ 0: expired).
public struct LeaseHolder: Sendable, Equatable {
    public var holder: String?
    public var address: String?
    public var epoch: UInt64
    public var expiresIn: Double
    public var isHeld: Bool { holder != nil && expiresIn > 0 }

    public init(holder: String?, address: String?, epoch: UInt64, expiresIn: Double) {
        self.holder = holder
        self.address = address
        self.epoch = epoch
        self.expiresIn = expiresIn
    }
}
