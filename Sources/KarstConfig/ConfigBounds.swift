import KarstCore

/// The range of every numeric configuration key, stated once; the readers check each value
/// against its range and report "must be between A and B, not C" at the key's path. Sizes are
/// bounded so that every sum the scheduler makes over the whole hub stays exact in Int64 units.
enum ConfigBounds {
    // [settings]
    static let utcOffsetHours = -12...14
    static let gridIntensity = 0.0...10
    static let maxDurationSeconds = 60.0...SpecBounds.maxDurationCeiling
    static let defaultDurationSeconds = 1.0...SpecBounds.maxDurationCeiling
    static let misses = 1...10_000_000
    static let maxPreemptionsPerJob = 0...1000
    static let poolPreemptionsPerMinute = 0...1_000_000
    static let backfillReservations = 0...1000
    static let timeShiftMinSaving = 0.0...1
    static let deadlineSlackSeconds = 0.0...SpecBounds.maxDurationCeiling
    /// `agent_report_interval_seconds`, `agent_suspect_seconds`, `agent_fence_seconds`,
    /// `agent_lost_seconds` (and their order: `AgentTimeouts.problem`).
    static let agentTimeout = 0.01...86_400.0
    // [scoring]
    static let scoringWeight = 0.0...1000
    // [[classes]]
    static let basePriority = -1_000_000...1_000_000
    static let agingPerHour = 0.0...1_000_000
    static let defaultLatencyMs = SpecBounds.maxLatencyMs
    // [[tenants]]
    static let tenantWeight = 0.001...1_000_000
    // [[datacenters]]: at most 64 (a job's residency is a 64-bit mask)
    static let maxDatacenters = 64
    static let pue = 1.0...5
    static let rttMs = 0.0...10_000
    static let poolCPU = SpecBounds.minCPU...1e9
    static let poolMemoryGiB = SpecBounds.minMemoryGiB...1e12
    static let poolAccelerators = 0...1_000_000_000
    static let wattsPerCore = 0.0...10_000
    static let wattsPerAccelerator = 0.0...100_000
    // quotas and borrow limits: the same ceilings as a pool, and 0
    static let quotaCPU = 0.0...1e9
    static let quotaMemoryGiB = 0.0...1e12
    // [server]
    static let maxMessageBytes = 1024...(64 << 20)
    static let maxConnections = 1...1_000_000
    static let idleTimeoutSeconds = 0.01...(7 * 86_400.0)
    static let maxCallsInFlight = 1...1_000_000
    static let watchBufferEvents = 1...10_000_000
    // [state]
    static let retentionDays = 0.001...36_500
    static let port = 1...65_535
    static let leaseSeconds = 1.0...600
    static let renewSeconds = 0.1...300
}

extension TableReader {
    /// A number within `range` (so also finite); one outside is reported with the range and read
    /// as nil, like a missing key.
    mutating func number(_ key: String, in range: ClosedRange<Double>, required: Bool = false) -> Double? {
        guard let v = number(key, required: required) else { return nil }
        guard range.contains(v) else {
            add(key, "must be between \(formatNumber(range.lowerBound)) and \(formatNumber(range.upperBound)), not \(formatNumber(v))")
            return nil
        }
        return v
    }

    /// An integer within `range`; one outside is reported with the range and read as nil.
    mutating func int(_ key: String, in range: ClosedRange<Int>, required: Bool = false) -> Int? {
        guard let v = int(key, required: required) else { return nil }
        guard range.contains(v) else {
            add(key, "must be between \(range.lowerBound) and \(range.upperBound), not \(v)")
            return nil
        }
        return v
    }
}
