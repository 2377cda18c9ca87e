import CoreMetrics
import KarstCore
import Prometheus

/// The daemon's metrics, registered in one Prometheus registry: job counters by class and data
/// centre, pending gauges by class, pool utilisation, queue-wait and call-duration histograms.
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
            let (label, dims): (String?, [(String, String)]) = switch e.kind {
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
            case .held, .released: (nil, [])
            }
            guard let label else { return }
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

    /// Refreshes the gauges from the state.
    func refreshGauges(_ state: borrowing SchedulerState) {
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
        if !agents.isEmpty {
            for s in [AgentBook.AgentState.live, .suspect, .disconnected, .lost] {
                gauge("karst_agents", [("state", s.rawValue)], Double(agents.filter { $0.state == s }.count))
            }
            gauge("karst_agent_leases", [], Double(agents.reduce(0) { $0 + $1.runs.count }))
        }
    }

    /// Prometheus text exposition of everything registered.
    func render() -> String { registry.emitToString() }
}
