/// How placement weighs its scorers. Each scorer yields a normalised score in 0…1 (1 is best among
/// the pools that could take the job); a pool's total is the weighted sum.
public struct ScoringWeights: Hashable, Sendable {
    /// Estimated electricity cost: kWh × PUE × the price at the hour of placement.
    public var energy: Double
    /// Estimated emissions: kWh × PUE × (1 − clean share) × grid intensity.
    public var carbon: Double
    /// Round-trip time from the job's origin region.
    public var latency: Double
    /// Packing: fill pools (`binpack`) or keep them even (`spread`).
    public var packing: Double
    public var packingMode: PackingMode

    public init(energy: Double = 1, carbon: Double = 1, latency: Double = 1, packing: Double = 0.5,
                packingMode: PackingMode = .binpack) {
        self.energy = energy
        self.carbon = carbon
        self.latency = latency
        self.packing = packing
        self.packingMode = packingMode
    }
}

/// Bin-packing prefers the fullest pool that fits; spreading prefers the emptiest.
public enum PackingMode: String, Hashable, Sendable, CaseIterable {
    case binpack
    case spread
}
