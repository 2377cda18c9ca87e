import KarstCore

/// Builds job specs in one readable line:
/// `JobBuilder.job().class("batch").cpu(4).memory(16).from("yrd").lasting(600).spec`.
public struct JobBuilder: Sendable {
    public var spec: JobSpec

    public static func job(_ name: String? = nil) -> JobBuilder {
        JobBuilder(spec: JobSpec(name: name, tenant: "t1", origin: "local", priorityClass: "batch",
                                 resources: ResourceRequest(cpu: 1, memoryGiB: 1)))
    }

    public func tenant(_ t: String) -> JobBuilder { with { $0.tenant = t } }
    public func from(_ region: String) -> JobBuilder { with { $0.origin = region } }
    public func `class`(_ c: String) -> JobBuilder { with { $0.priorityClass = c } }
    public func priority(_ p: Int) -> JobBuilder { with { $0.priority = p } }
    public func cpu(_ c: Double) -> JobBuilder { with { $0.resources.cpu = c } }
    public func memory(_ gib: Double) -> JobBuilder { with { $0.resources.memoryGiB = gib } }
    public func accelerators(_ n: Int, model: String? = nil) -> JobBuilder {
        with { $0.resources.accelerators = n; $0.resources.acceleratorModel = model }
    }
    public func replicas(_ n: Int) -> JobBuilder { with { $0.replicas = n } }
    public func lasting(_ seconds: Double) -> JobBuilder { with { $0.durationSeconds = seconds } }
    public func latency(_ ms: Double) -> JobBuilder { with { $0.maxLatencyMs = ms } }
    public func only(_ dcs: String...) -> JobBuilder { with { $0.datacenters = dcs } }
    public func retries(_ n: Int) -> JobBuilder { with { $0.maxRetries = n } }
    public func notBefore(_ t: Instant) -> JobBuilder { with { $0.notBefore = t } }
    public func notAfter(_ t: Instant) -> JobBuilder { with { $0.notAfter = t } }
    public func deadline(_ t: Instant) -> JobBuilder { with { $0.deadline = t } }
    public func after(_ ids: JobID...) -> JobBuilder { with { $0.dependsOn = ids } }
    public func preemptible(_ p: Bool) -> JobBuilder { with { $0.preemptible = p } }
    /// A command to run (on a site agent).
    public func running(_ argv: String...) -> JobBuilder { with { $0.command = argv } }

    /// The spec changed by `change`, for what no builder method says.
    public func with(_ change: (inout JobSpec) -> Void) -> JobBuilder {
        var copy = self
        change(&copy.spec)
        return copy
    }
}
