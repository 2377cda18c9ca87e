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
    private var counters: [String: CoreMetrics.Counter] = [:]
    private var gauges: [String: CoreMetrics.Gauge] = [:]
    private var recorders: [String: CoreMetrics.Recorder] = [:]
    private var timers: [String: CoreMetrics.Timer] = [:]

    init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        var f = PrometheusMetricsFactory(registry: registry)
        f.defaultValueHistogramBuckets = [1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 12 * 3600, 86400]
        f.defaultDurationHistogramBuckets = [.microseconds(50), .microseconds(100), .microseconds(250),
                                             .microseconds(500), .milliseconds(1), .milliseconds(2),
                                             .milliseconds(5), .milliseconds(10), .milliseconds(50),
                                             .milliseconds(250), .seconds(1)]
        factory = f
    }

    private func key(_ label: String, _ dims: [(String, String)]) -> String {
        dims.reduce(label) { $0 + "|" + $1.0 + "=" + $1.1 }
    }

    func increment(_ label: String, _ dims: [(String, String)], by n: Int = 1) {
        let k = key(label, dims)
        if counters[k] == nil { counters[k] = CoreMetrics.Counter(label: label, dimensions: dims, factory: factory) }
        counters[k]!.increment(by: n)
    }

    func gauge(_ label: String, _ dims: [(String, String)], _ value: Double) {
        let k = key(label, dims)
        if gauges[k] == nil { gauges[k] = CoreMetrics.Gauge(label: label, dimensions: dims, factory: factory) }
        gauges[k]!.record(value)
    }

    func observe(_ label: String, _ dims: [(String, String)], _ value: Double) {
        let k = key(label, dims)
        if recorders[k] == nil { recorders[k] = CoreMetrics.Recorder(label: label, dimensions: dims, aggregate: true, factory: factory) }
        recorders[k]!.record(value)
    }

    func time(_ label: String, _ dims: [(String, String)], nanoseconds: Int64) {
        let k = key(label, dims)
        if timers[k] == nil { timers[k] = CoreMetrics.Timer(label: label, dimensions: dims, factory: factory) }
        timers[k]!.recordNanoseconds(nanoseconds)
    }

    /// Counts an event by kind, class and (where it has one) data centre.
    func record(_ e: Event, state: SchedulerState) {
        let cls = e.job.spec.priorityClass
        let dc = e.job.placement.map { state.names(of: $0).datacenter } ?? "none"
        switch e.kind {
        case .submitted: increment("karst_jobs_submitted_total", [("class", cls)])
        case .placed:
            increment("karst_jobs_placed_total", [("class", cls), ("datacenter", dc)])
            if let started = e.job.startedAt {
                observe("karst_queue_wait_seconds", [("class", cls)], e.job.submittedAt.seconds(to: started))
            }
        case .succeeded: increment("karst_jobs_completed_total", [("class", cls), ("datacenter", dc)])
        case .failed: increment("karst_jobs_failed_total", [("class", cls), ("datacenter", dc)])
        case .preempted: increment("karst_jobs_preempted_total", [("class", cls), ("datacenter", dc)])
        case .requeued: increment("karst_jobs_requeued_total", [("class", cls), ("datacenter", dc)])
        case .cancelled: increment("karst_jobs_cancelled_total", [("class", cls)])
        case .held, .released: break
        }
    }

    /// Refreshes the gauges from the state.
    func refreshGauges(_ state: SchedulerState) {
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
    }

    /// Prometheus text exposition of everything registered.
    func render() -> String { registry.emitToString() }
}
