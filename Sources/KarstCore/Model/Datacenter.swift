/// A data centre of the hub: where it is, who runs it, what it costs to run work there, how far it
/// is from each demand region, and its pools.
public struct Datacenter: Hashable, Sendable {
    /// Stable id (e.g. `ct-guizhou`).
    public var id: String
    public var name: String
    /// The operating company (China Telecom, Huawei Cloud, …).
    public var operatorName: String
    /// Power usage effectiveness: facility energy / IT energy (≥ 1).
    public var pue: Double
    /// Share of the site's electricity from clean sources (0…1), for each hour of the local day.
    public var cleanShareByHour: [Double]
    /// Electricity price in CNY per kWh for each hour of the local day (24 values).
    public var priceByHour: [Double]
    /// Round-trip time in milliseconds to each region, indexed like `Topology.regions`.
    public var rttMs: [Double]
    public var pools: [Pool]
    /// Who carries out the runs placed here: the modelled executor, or site agents.
    public var executor: Executor

    public init(id: String, name: String, operatorName: String, pue: Double, cleanShareByHour: [Double],
                priceByHour: [Double], rttMs: [Double], pools: [Pool], executor: Executor = .model) {
        self.id = id
        self.name = name
        self.operatorName = operatorName
        self.pue = pue
        self.cleanShareByHour = cleanShareByHour
        self.priceByHour = priceByHour
        self.rttMs = rttMs
        self.pools = pools
        self.executor = executor
    }
}

/// Who carries out a data centre's runs.
public enum Executor: String, Hashable, Sendable, CaseIterable {
    /// The modelled executor: a run ends after the job's `durationSeconds` (or when an executor
    /// reports it with `Complete`). Jobs without a command run here.
    case model
    /// Site agents run each job's command; a job with a command runs only here, and only while
    /// an agent of the data centre is live.
    case agents
}

/// Whether a data centre takes new work.
public enum DatacenterState: String, Hashable, Sendable, CaseIterable {
    /// Takes new placements.
    case active
    /// No new placements; running jobs finish where they are.
    case draining
    /// An outage: nothing runs here; jobs that were running were requeued.
    case offline
}
