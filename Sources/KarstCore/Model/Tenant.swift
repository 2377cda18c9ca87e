/// A tenant's share of the hub: its fair-share weight and optional quota.
///
/// Tenants not listed in the configuration are admitted with `TenantPolicy.defaults`.
public struct TenantPolicy: Hashable, Sendable {
    public var id: String
    /// Fair-share weight (> 0): a tenant of weight 2 is entitled to twice the dominant share of one
    /// of weight 1 when both have more work than fits.
    public var weight: Double
    /// Capacity guaranteed to this tenant: while its allocation is within the quota, it may
    /// reclaim capacity other tenants borrowed (by preempting their borrowed, preemptible jobs).
    /// nil: nothing guaranteed, and everything it runs is borrowed.
    public var quota: Resources?
    /// How far above its quota the tenant may borrow idle capacity; nil for no limit (only
    /// meaningful with a quota). Zero makes the quota a hard cap.
    public var borrowLimit: Resources?

    public init(id: String, weight: Double = 1, quota: Resources? = nil, borrowLimit: Resources? = nil) {
        self.id = id
        self.weight = weight
        self.quota = quota
        self.borrowLimit = borrowLimit
    }

    /// The most the tenant may hold at once (quota + borrow limit); nil for no cap.
    public var ceiling: Resources? {
        guard let quota, let borrowLimit else { return nil }
        return quota + borrowLimit
    }
}
