/// A tenant's share of the hub: its fair-share weight and optional quota.
///
/// Tenants not listed in the configuration are admitted with `TenantPolicy.defaults`.
public struct TenantPolicy: Hashable, Sendable {
    public var id: String
    /// Fair-share weight (> 0): a tenant of weight 2 is entitled to twice the dominant share of one
    /// of weight 1 when both have more work than fits.
    public var weight: Double
    /// The most this tenant may have allocated at once; nil for no limit.
    public var quota: Resources?

    public init(id: String, weight: Double = 1, quota: Resources? = nil) {
        self.id = id
        self.weight = weight
        self.quota = quota
    }
}
