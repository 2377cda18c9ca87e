import KarstConfig
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

    /// Applies one `KEY=VALUE` override. Configuration keys (`settings.`, `scoring.`, `class.`,
    /// `tenant.`, `datacenter.<id>.pue`) are spelt and range-checked as in the TOML
    /// (`ConfigOverrides`); `event`, `load`, `flex`, `promise` and a data centre's `price_scale`
    /// and `capacity_scale` are the simulator's own.
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
        switch (path.first ?? "", path.count) {
        case ("event", 1): events.append(value)
        case ("load", 1): load["*"] = try number()
        case ("load", 2): load[path[1]] = try number()
        case ("flex", 2): flex[path[1]] = try duration()
        case ("promise", 2): promises.seconds[path[1]] = value == "none" ? .infinity : try duration()
        case ("datacenter", 3) where path[2] == "price_scale" || path[2] == "capacity_scale":
            guard let d = topology.datacenterIndex(of: path[1]) else {
                throw .usage("'\(text)': unknown data centre \(path[1])")
            }
            let v = try number()
            guard v <= Self.maxScale else {
                throw .usage("'\(text)': \(key): must be between 0 and \(formatNumber(Self.maxScale)), not \(formatNumber(v))")
            }
            scale(datacenter: d, path[2], by: v)
        case (let section, _) where ConfigOverrides.sections.contains(section):
            do { topology = try ConfigOverrides.apply(key, value, to: topology) } catch {
                throw .usage("'\(text)': " + error.issues.map(\.description).joined(separator: "; "))
            }
        default:
            throw .usage("'\(text)': unknown key \(key) (see docs/TRACES.md, \"What-if keys\")")
        }
        overrides.append(text)
    }

    /// The largest `price_scale` or `capacity_scale`: a bigger pool could overflow the core's units.
    static let maxScale = 1000.0

    private mutating func scale(datacenter d: Int, _ what: String, by v: Double) {
        var t = topology
        if what == "price_scale" {
            t.datacenters[d].priceByHour = t.datacenters[d].priceByHour.map { $0 * v }
        } else {
            for p in t.datacenters[d].pools.indices {
                let c = t.datacenters[d].pools[p].capacity
                t.datacenters[d].pools[p].capacity = Resources(
                    milliCPU: Int64(Double(c.milliCPU) * v), memoryMiB: Int64(Double(c.memoryMiB) * v),
                    accelerators: Int64((Double(c.accelerators) * v).rounded(.down)))
            }
        }
        topology = Topology(regions: t.regions, datacenters: t.datacenters, classes: t.classes, tenants: t.tenants,
                            tenantDefaults: t.tenantDefaults, scoring: t.scoring, settings: t.settings)
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
