import CoreMetrics
import KarstCore
import Prometheus

/// The daemon's metrics, registered in one Prometheus registry: job counters by class and data
/// centre, pending gauges by class and by reason, pool utilisation, each tenant's share, use,
/// quota and jobs, each site's power, cost and carbon rate, commit latency, streams ended as slow
/// consumers, queue-wait and call-duration histograms (README, "Metrics", lists them all).
///
/// Used by the engine thread only (metric handles are cached in plain dictionaries).
final class KarstMetrics: @unchecked Sendable {
    let registry: PrometheusCollectorRegistry
    private let factory: PrometheusMetricsFactory
    private var gauges: [String: CoreMetrics.Gauge] = [:]

    init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        var f = PrometheusMetricsFactory(registry: registry)
        f.defaultValueHistogramBuckets = [1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 12 * 3600, 86400]
        f.defaultDurationHistogramBuckets = [.microseconds(50), .microseconds(100), .microseconds(250),
                                             .microseconds(500), .milliseconds(1), .milliseconds(2),
                                             .milliseconds(5), .milliseconds(10), .milliseconds(20), .milliseconds(50),
                                             .milliseconds(100), .milliseconds(250), .seconds(1), .seconds(5), .seconds(60)]
        factory = f
    }

    private func key(_ label: String, _ dims: [(String, String)]) -> String {
        dims.reduce(label) { $0 + "|" + $1.0 + "=" + $1.1 }
    }

    func gauge(_ label: String, _ dims: [(String, String)], _ value: Double) {
        let k = key(label, dims)
        if gauges[k] == nil { gauges[k] = CoreMetrics.Gauge(label: label, dimensions: dims, factory: factory) }
        gauges[k]!.record(value)
    }

    /// Event counters by (kind, class id, data centre id), looked up without building strings.
    private struct EventKey: Hashable {
        var kind: EventKind
        var cls: String
        var datacenter: Int
    }
    private var eventCounters: [EventKey: CoreMetrics.Counter] = [:]
    private var waitRecorders: [String: CoreMetrics.Recorder] = [:]
    private var callTimers: [String: CoreMetrics.Timer] = [:]

    /// Counts an event by kind, class and (where it has one) data centre.
    func record(_ e: Event, state: borrowing SchedulerState) {
        let cls = e.job.spec.priorityClass
        let d = e.job.placement?.datacenter ?? -1
        let key = EventKey(kind: e.kind, cls: cls, datacenter: d)
        if eventCounters[key] == nil {
            let dc = d >= 0 ? state.topology.datacenters[d].id : "none"
            guard let (label, dims) = Self.series(of: e.kind, class: cls, datacenter: dc) else { return }
            eventCounters[key] = CoreMetrics.Counter(label: label, dimensions: dims, factory: factory)
        }
        eventCounters[key]!.increment()
        if e.kind == .started, e.job.attempts == 1 { submitToStarted(seconds: e.job.submittedAt.seconds(to: e.at)) }
        if e.kind == .placed, let started = e.job.startedAt {
            if waitRecorders[cls] == nil {
                waitRecorders[cls] = CoreMetrics.Recorder(label: "karst_queue_wait_seconds", dimensions: [("class", cls)],
                                                          aggregate: true, factory: factory)
            }
            waitRecorders[cls]!.record(e.job.submittedAt.seconds(to: started))
        }
    }

    /// The counter an event kind is counted in, and its labels; nil for kinds not counted.
    static func series(of kind: EventKind, class cls: String, datacenter dc: String) -> (String, [(String, String)])? {
        switch kind {
        case .submitted: ("karst_jobs_submitted_total", [("class", cls)])
        case .placed: ("karst_jobs_placed_total", [("class", cls), ("datacenter", dc)])
        case .succeeded: ("karst_jobs_completed_total", [("class", cls), ("datacenter", dc)])
        case .failed: ("karst_jobs_failed_total", [("class", cls), ("datacenter", dc)])
        case .preempted: ("karst_jobs_preempted_total", [("class", cls), ("datacenter", dc)])
        case .requeued: ("karst_jobs_requeued_total", [("class", cls), ("datacenter", dc)])
        case .cancelled: ("karst_jobs_cancelled_total", [("class", cls)])
        case .deadlineMissed: ("karst_deadlines_missed_total", [("class", cls)])
        case .stopping: ("karst_runs_stopping_total", [("class", cls), ("datacenter", dc)])
        case .started: ("karst_runs_started_total", [("class", cls), ("datacenter", dc)])
        case .held, .released: nil
        }
    }

    private lazy var startTimer = CoreMetrics.Timer(label: "karst_submit_to_started_seconds", factory: factory)

    /// A job's first run reported started by its agent, `seconds` after the job was submitted.
    private func submitToStarted(seconds: Double) {
        startTimer.recordNanoseconds(Int64(max(0, seconds) * 1e9))
    }

    /// The timer last used, for the next call of the same method (a batch is mostly one).
    private var lastCallTimer: (method: String, timer: CoreMetrics.Timer)?

    /// Time from reading a call to answering it; `method` is the full name, the metric's label
    /// its member (`Submit`).
    func callDuration(_ method: String, seconds: Double) {
        let timer: CoreMetrics.Timer
        if let last = lastCallTimer, last.method == method {
            timer = last.timer
        } else if let known = callTimers[method] {
            timer = known
        } else {
            let member = method.lastIndex(of: ".").map { String(method[method.index(after: $0)...]) } ?? method
            timer = CoreMetrics.Timer(label: "karst_call_duration_seconds", dimensions: [("method", member)],
                                      factory: factory)
            callTimers[method] = timer
        }
        lastCallTimer = (method, timer)
        timer.recordNanoseconds(Int64(seconds * 1e9))
    }

    /// Tenants with series of their own: the configured ones, then the first others seen, up to
    /// `maxTenantSeries`; the rest are summed as `tenant="other"` (a label set must stay bounded).
    private var tenantSeries: Set<String> = []
    static let maxTenantSeries = 64
    /// When the gauges that walk every job were last refreshed (engine's monotonic seconds).
    private var lastSlowRefresh = -Double.infinity
    /// How often those are refreshed: a scrape every 15 s sees them at most two seconds old.
    static let slowRefreshSeconds = 2.0

    private func tenantLabel(_ tenant: String) -> String {
        if tenantSeries.contains(tenant) { return tenant }
        if tenantSeries.count < Self.maxTenantSeries {
            tenantSeries.insert(tenant)
            return tenant
        }
        return "other"
    }

    private lazy var commitTimer = CoreMetrics.Timer(label: "karst_store_commit_seconds", factory: factory)
    private lazy var commitFailures = CoreMetrics.Counter(label: "karst_store_commit_failures_total", factory: factory)
    private var slowConsumerCounters: [String: CoreMetrics.Counter] = [:]

    /// One store transaction (an engine batch), committed or not.
    func commit(seconds: Double, failed: Bool) {
        commitTimer.recordNanoseconds(Int64(max(0, seconds) * 1e9))
        if failed { commitFailures.increment() }
    }

    /// A stream ended because its reader fell behind: `watch` (a client's Watch) or `agent` (a
    /// site agent's lease stream).
    func slowConsumer(_ stream: String) { slowConsumerCounter(stream).increment() }

    private func slowConsumerCounter(_ stream: String) -> CoreMetrics.Counter {
        if let c = slowConsumerCounters[stream] { return c }
        let c = CoreMetrics.Counter(label: "karst_streams_ended_slow_consumer_total", dimensions: [("stream", stream)], factory: factory)
        slowConsumerCounters[stream] = c
        return c
    }

    /// Creates, at zero, the series a dashboard shows before anything happened: counters of
    /// events, reasons and streams, so a query names a series from the daemon's first scrape.
    func registerAtZero(_ state: borrowing SchedulerState) {
        let byClass: [EventKind] = [.submitted, .cancelled, .deadlineMissed]
        let byPlace: [EventKind] = [.placed, .succeeded, .failed, .preempted, .requeued]
        for c in state.topology.classes {
            for kind in byClass {
                if let (label, dims) = Self.series(of: kind, class: c.id, datacenter: "none") {
                    _ = CoreMetrics.Counter(label: label, dimensions: dims, factory: factory)
                }
            }
            for dc in state.topology.datacenters {
                for kind in byPlace {
                    if let (label, dims) = Self.series(of: kind, class: c.id, datacenter: dc.id) {
                        _ = CoreMetrics.Counter(label: label, dimensions: dims, factory: factory)
                    }
                }
            }
        }
        for stream in ["watch", "agent"] { _ = slowConsumerCounter(stream) }
        // Histograms with no observation yet: present, with zero counts.
        _ = commitFailures
        _ = commitTimer
        _ = startTimer
        for reason in PendingReason.categories { gauge("karst_jobs_pending_by_reason", [("reason", reason)], 0) }
        gauge("karst_build_info", [("version", KarstVersion.current)], 1)
    }

    /// Refreshes the gauges from the state; `watches` is the number of open Watch streams,
    /// `wall` the engine's monotonic seconds (to pace the gauges that walk every job).
    func refreshGauges(_ state: borrowing SchedulerState, now: Instant, watches: Int, generation: Int, wall: Double) {
        gauge("karst_watches_open", [], Double(watches))
        gauge("karst_config_generation", [], Double(generation))
        for r in state.siteRates(now: now) {
            let dc = [("datacenter", r.datacenter)]
            gauge("karst_site_power_kilowatts", dc, r.facilityPowerKW)
            gauge("karst_site_it_power_kilowatts", dc, r.itPowerKW)
            gauge("karst_site_cost_yuan_per_hour", dc, r.costCNYPerHour)
            gauge("karst_site_carbon_kilograms_per_hour", dc, r.carbonKgPerHour)
            gauge("karst_site_clean_energy_ratio", dc, r.cleanShare)
            gauge("karst_site_power_price_yuan_per_kilowatt_hour", dc, r.priceCNYPerKWh)
        }
        if wall - lastSlowRefresh >= Self.slowRefreshSeconds {
            lastSlowRefresh = wall
            refreshTenantsAndReasons(state)
        }
        for (cls, n) in state.pendingByClass { gauge("karst_jobs_pending", [("class", cls)], Double(n)) }
        gauge("karst_jobs_running", [], Double(state.runningTotal))
        for dc in state.usage {
            for p in dc.pools {
                let dims = [("datacenter", dc.id), ("pool", p.id)]
                gauge("karst_pool_utilisation", dims + [("resource", "cpu")],
                      p.capacity.milliCPU > 0 ? Double(p.allocated.milliCPU) / Double(p.capacity.milliCPU) : 0)
                gauge("karst_pool_utilisation", dims + [("resource", "memory")],
                      p.capacity.memoryMiB > 0 ? Double(p.allocated.memoryMiB) / Double(p.capacity.memoryMiB) : 0)
                if p.capacity.accelerators > 0 {
                    gauge("karst_pool_utilisation", dims + [("resource", "accelerators")],
                          Double(p.allocated.accelerators) / Double(p.capacity.accelerators))
                }
            }
        }
        let agents = state.agents.allAgents
        for s in [AgentBook.AgentState.live, .suspect, .disconnected, .lost] {
            gauge("karst_agents", [("state", s.rawValue)], Double(agents.filter { $0.state == s }.count))
        }
        gauge("karst_agent_leases", [], Double(agents.reduce(0) { $0 + $1.runs.count }))
    }

    /// Each tenant's dominant share, allocation, quota and jobs; pending jobs by reason.
    private func refreshTenantsAndReasons(_ state: borrowing SchedulerState) {
        let (byReason, pendingByTenant, runningByTenant) = state.waitingAndRunning
        for reason in PendingReason.categories { gauge("karst_jobs_pending_by_reason", [("reason", reason)], Double(byReason[reason] ?? 0)) }
        var usage: [String: Resources] = [:]
        var share: [String: Double] = [:]
        var pending: [String: Int] = [:]
        var running: [String: Int] = [:]
        for t in state.tenantShares {
            let label = tenantLabel(t.tenant)
            usage[label, default: .zero] += t.usage
            share[label, default: 0] += t.dominantShare
        }
        for (t, n) in pendingByTenant { pending[tenantLabel(t), default: 0] += n }
        for (t, n) in runningByTenant { running[tenantLabel(t), default: 0] += n }
        let configured = state.topology.tenants.map { tenantLabel($0.id) }
        for label in Set(usage.keys).union(pending.keys).union(running.keys).union(configured) {
            let dims = [("tenant", label)]
            let u = usage[label] ?? .zero
            gauge("karst_tenant_dominant_share", dims, share[label] ?? 0)
            gauge("karst_tenant_allocated_cpu_cores", dims, Double(u.milliCPU) / 1000)
            gauge("karst_tenant_allocated_memory_bytes", dims, Double(u.memoryMiB) * 1_048_576)
            gauge("karst_tenant_allocated_accelerators", dims, Double(u.accelerators))
            gauge("karst_tenant_jobs_pending", dims, Double(pending[label] ?? 0))
            gauge("karst_tenant_jobs_running", dims, Double(running[label] ?? 0))
            guard label != "other", let quota = state.topology.tenantPolicy(for: label).quota else { continue }
            gauge("karst_tenant_quota_cpu_cores", dims, Double(quota.milliCPU) / 1000)
            gauge("karst_tenant_quota_memory_bytes", dims, Double(quota.memoryMiB) * 1_048_576)
            gauge("karst_tenant_quota_accelerators", dims, Double(quota.accelerators))
        }
    }

    /// Prometheus text exposition of everything registered.
    func render() -> String { registry.emitToString() }
}
