/// One scorer of placement. Each computes a raw figure per feasible pool; the stack normalises the
/// figures over the candidates to 0…1 (1 best) and weighs them with `ScoringWeights`.
enum Scorer: CaseIterable, Sendable {
    /// Estimated electricity cost in CNY (lower is better).
    case energy
    /// Estimated emissions in kg CO₂ (lower is better).
    case carbon
    /// RTT in ms from the job's origin (lower is better).
    case latency
    /// Dominant utilisation of the pool after placing the job (binpack: higher is better;
    /// spread: lower is better).
    case packing

    /// Whether a higher raw figure is better.
    func higherIsBetter(_ w: ScoringWeights) -> Bool {
        self == .packing && w.packingMode == .binpack
    }
}

/// What a placement is expected to cost, and how it scored.
public struct PlacementEstimate: Hashable, Sendable {
    /// Facility energy (IT energy × PUE) in kWh over the expected run time.
    public var energyKWh: Double
    public var costCNY: Double
    public var carbonKg: Double
    public var rttMs: Double
    /// The pool's dominant utilisation after placement (0…1).
    public var utilisation: Double
    /// Weighted total of the normalised scores (higher won).
    public var score: Double

    public init(energyKWh: Double = 0, costCNY: Double = 0, carbonKg: Double = 0, rttMs: Double = 0,
                utilisation: Double = 0, score: Double = 0) {
        self.energyKWh = energyKWh
        self.costCNY = costCNY
        self.carbonKg = carbonKg
        self.rttMs = rttMs
        self.utilisation = utilisation
        self.score = score
    }
}
