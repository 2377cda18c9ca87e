import KarstCore

/// One side of a replay: the topology and policy it runs with, plus what-if changes to the
/// workload and scripted site events. Built from a configuration and `KEY=VALUE` overrides
/// (docs/TRACES.md lists the keys).
public struct Scenario: Sendable {
    /// Shown in tables and reports.
    public var label: String
    public var topology: Topology
    /// Site events as given (`TIME ACTION DATACENTRE`); parsed against the trace's start.
    public var events: [String] = []
    /// Arrival-rate factor per region id; `*` applies to every region without its own.
    public var load: [String: Double] = [:]
    /// Flexibility window (seconds) given to jobs of a class that have none.
    public var flex: [String: Double] = [:]
    public var promises = WaitPromises()
    /// The overrides applied, in order, for the record.
    public var overrides: [String] = []

    public init(label: String, topology: Topology) {
        self.label = label
        self.topology = topology
    }

    /// Applies one `KEY=VALUE` override.
    public mutating func apply(_ text: String) throws(SimError) {
        guard let eq = text.firstIndex(of: "=") else { throw .usage("'\(text)': expected KEY=VALUE") }
        let key = String(text[..<eq]), value = String(text[text.index(after: eq)...])
        let path = key.split(separator: ".", maxSplits: 2).map(String.init)
        func number() throws(SimError) -> Double {
            guard let v = Double(value), v.isFinite, v >= 0 else { throw .usage("'\(text)': \(key) needs a number ≥ 0") }
            return v
        }
        func duration() throws(SimError) -> Double {
            guard let v = parseDuration(value) else { throw .usage("'\(text)': \(key) needs a duration (90m, 8h, 3600)") }
            return v
        }
        var t = topology
        var classes = t.classes
        switch (path.first ?? "", path.count) {
        case ("event", 1): events.append(value)
        case ("load", 1): load["*"] = try number()
        case ("load", 2): load[path[1]] = try number()
        case ("flex", 2): flex[path[1]] = try duration()
        case ("promise", 2): promises.seconds[path[1]] = value == "none" ? .infinity : try duration()
        case ("scoring", 2):
            switch path[1] {
            case "energy": t.scoring.energy = try number()
            case "carbon": t.scoring.carbon = try number()
            case "latency": t.scoring.latency = try number()
            case "packing": t.scoring.packing = try number()
            case "packing_mode":
                guard let m = PackingMode(rawValue: value) else { throw .usage("'\(text)': binpack or spread") }
                t.scoring.packingMode = m
            default: throw .usage("'\(text)': unknown key \(key)")
            }
        case ("settings", 2):
            switch path[1] {
            case "max_consecutive_misses": t.settings.maxConsecutiveMisses = Int(try number())
            case "max_tenant_misses_per_pass": t.settings.maxTenantMissesPerPass = Int(try number())
            case "grid_intensity": t.settings.gridIntensityKgPerKWh = try number()
            case "backfill_reservations": t.settings.backfillReservations = Int(try number())
            case "time_shift_min_saving": t.settings.timeShiftMinSaving = try number()
            case "max_preemptions_per_job": t.settings.maxPreemptionsPerJob = Int(try number())
            case "deadline_slack": t.settings.deadlineSlackSeconds = try duration()
            default: throw .usage("'\(text)': unknown key \(key)")
            }
        case ("class", 3):
            guard let c = classes.firstIndex(where: { $0.id == path[1] }), path[2] == "aging_per_hour" else {
                throw .usage("'\(text)': expected class.<known class>.aging_per_hour")
            }
            classes[c].agingPerHour = try number()
        case ("tenant", 3):
            guard path[2] == "weight" else { throw .usage("'\(text)': expected tenant.<id>.weight") }
            let w = try number()
            if let i = t.tenants.firstIndex(where: { $0.id == path[1] }) {
                t.tenants[i].weight = w
            } else {
                var p = t.tenantPolicy(for: path[1])
                p.weight = w
                t.tenants.append(p)
            }
        case ("datacenter", 3):
            guard let d = t.datacenters.firstIndex(where: { $0.id == path[1] }) else {
                throw .usage("'\(text)': unknown data centre \(path[1])")
            }
            let v = try number()
            switch path[2] {
            case "price_scale": t.datacenters[d].priceByHour = t.datacenters[d].priceByHour.map { $0 * v }
            case "pue": t.datacenters[d].pue = max(1, v)
            case "capacity_scale":
                for p in t.datacenters[d].pools.indices {
                    let c = t.datacenters[d].pools[p].capacity
                    t.datacenters[d].pools[p].capacity = Resources(
                        milliCPU: Int64(Double(c.milliCPU) * v), memoryMiB: Int64(Double(c.memoryMiB) * v),
                        accelerators: Int64((Double(c.accelerators) * v).rounded(.down)))
                }
            default: throw .usage("'\(text)': expected price_scale, pue or capacity_scale")
            }
        default:
            throw .usage("'\(text)': unknown key \(key) (see docs/TRACES.md, \"What-if keys\")")
        }
        topology = Topology(regions: t.regions, datacenters: t.datacenters, classes: classes, tenants: t.tenants,
                            tenantDefaults: t.tenantDefaults, scoring: t.scoring, settings: t.settings)
        overrides.append(text)
    }
}

/// How long each class may wait for its first start and still count as served on time (ASSUMED
/// service targets, docs/TRACES.md); `promise.<class>=DURATION` changes one.
public struct WaitPromises: Hashable, Sendable {
    /// Seconds per class id; a class without an entry (or `.infinity`) has no promise.
    public var seconds: [String: Double] = ["critical": 60, "online": 300, "batch": 3600]

    public init() {}

    public func promise(for classID: String) -> Double? {
        seconds[classID].flatMap { $0.isFinite ? $0 : nil }
    }
}
