import KarstCore

/// Builds small topologies for tests: regions `local`, `gba`, `bth`; classes `critical`, `online`,
/// `batch`, `best-effort` (the default policy's shape); data centres added one line each.
public struct TopologyBuilder: Sendable {
    public var regions = [Region(id: "local", name: "Local"), Region(id: "gba", name: "GBA"),
                          Region(id: "bth", name: "BTH")]
    public var datacenters: [Datacenter] = []
    public var classes = [
        PriorityClass(id: "critical", basePriority: 1000, agingPerHour: 0, canPreempt: true,
                      preemptibleByDefault: false, defaultLatencyMs: 20),
        PriorityClass(id: "online", basePriority: 800, agingPerHour: 0, canPreempt: true,
                      preemptibleByDefault: false, defaultLatencyMs: 20),
        PriorityClass(id: "batch", basePriority: 500, agingPerHour: 10, canPreempt: false,
                      preemptibleByDefault: true, defaultLatencyMs: 200),
        PriorityClass(id: "best-effort", basePriority: 100, agingPerHour: 10, canPreempt: false,
                      preemptibleByDefault: true, defaultLatencyMs: 1000),
    ]
    public var tenants: [TenantPolicy] = []
    public var scoring = ScoringWeights()
    public var settings = SchedulerSettings()

    public init() {}

    /// Adds a data centre. `rtt` maps region ids to ms (default 3 ms to every region);
    /// `pools` lists (id, cpu, memory GiB, accelerators, model). `prices` and `cleans`, when
    /// given, are 24 hourly figures (local time) instead of the flat `price` and `clean`.
    public func datacenter(_ id: String, pue: Double = 1.2, price: Double = 0.35, clean: Double = 0.6,
                           prices: [Double]? = nil, cleans: [Double]? = nil, rtt: [String: Double] = [:],
                           pools: [(String, Double, Double, Int, String?)]) -> TopologyBuilder {
        var copy = self
        copy.datacenters.append(Datacenter(
            id: id, name: id, operatorName: "test", pue: pue,
            cleanShareByHour: cleans ?? Array(repeating: clean, count: 24),
            priceByHour: prices ?? Array(repeating: price, count: 24),
            rttMs: regions.map { rtt[$0.id] ?? 3 },
            pools: pools.map { Pool(id: $0.0, capacity: Resources(cpu: $0.1, memoryGiB: $0.2, accelerators: $0.3),
                                    acceleratorModel: $0.4) }))
        return copy
    }

    public func tenant(_ id: String, weight: Double = 1, quota: Resources? = nil,
                       borrowLimit: Resources? = nil) -> TopologyBuilder {
        var copy = self
        copy.tenants.append(TenantPolicy(id: id, weight: weight, quota: quota, borrowLimit: borrowLimit))
        return copy
    }

    public func aging(_ classID: String, perHour: Double) -> TopologyBuilder {
        var copy = self
        for i in copy.classes.indices where copy.classes[i].id == classID { copy.classes[i].agingPerHour = perHour }
        return copy
    }

    /// Site agents carry out the runs of these data centres (`executor = "agents"`).
    public func agents(_ ids: String...) -> TopologyBuilder {
        with { b in
            for i in b.datacenters.indices where ids.contains(b.datacenters[i].id) { b.datacenters[i].executor = .agents }
        }
    }

    public func with(_ change: (inout TopologyBuilder) -> Void) -> TopologyBuilder {
        var copy = self
        change(&copy)
        return copy
    }

    public var topology: Topology {
        Topology(regions: regions, datacenters: datacenters, classes: classes, tenants: tenants,
                 scoring: scoring, settings: settings)
    }
}
