import Prometheus

/// A listener's connections in the daemon's metrics: open now, accepted and refused (at the
/// connection limit) since the start. Labelled by listener (`control`, the Unix socket;
/// `agents`, the remote agents' TLS port). Updated from the event loops: the Prometheus
/// registry's metrics are thread-safe.
public final class ConnectionMetrics: Sendable {
    let open: Gauge
    let accepted: Counter
    let refused: Counter

    public init(registry: PrometheusCollectorRegistry, listener: String) {
        let labels = [("listener", listener)]
        open = registry.makeGauge(descriptor: MetricNameDescriptor(
            namespace: "karst", metricName: "connections", unitName: "open",
            helpText: "Client connections open now"), labels: labels)
        accepted = registry.makeCounter(descriptor: MetricNameDescriptor(
            namespace: "karst", metricName: "connections_accepted", unitName: "total",
            helpText: "Connections accepted since the daemon started"), labels: labels)
        refused = registry.makeCounter(descriptor: MetricNameDescriptor(
            namespace: "karst", metricName: "connections_refused", unitName: "total",
            helpText: "Connections refused at max_connections since the daemon started"), labels: labels)
    }
}
