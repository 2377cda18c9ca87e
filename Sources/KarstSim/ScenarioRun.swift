import KarstCore
import KarstTrace

extension Scenario {
    /// Replays `trace` under this scenario: transforms the workload (`workload(_:seed:)`), parses the
    /// site events against its first arrival, checks they name known data centres, and runs.
    public func replay(_ trace: [TraceJob], seed: UInt64, passInterval: Double = 0, progressEvery: Int = 20_000,
                       progress: ((Replay.Progress) -> Void)? = nil,
                       final: ((borrowing SchedulerState) -> Void)? = nil) throws(SimError) -> ReplaySummary {
        let jobs = workload(trace, seed: seed)
        let origin = jobs.first?.submitAt ?? Instant(microseconds: 0)
        var parsed: [SiteEvent] = []
        for text in events {
            let e = try SiteEvent(parsing: text, origin: origin, utcOffsetHours: topology.settings.utcOffsetHours)
            guard topology.datacenterIndex(of: e.datacenter) != nil else {
                throw .usage("event '\(text)': no data centre '\(e.datacenter)' (known: "
                    + topology.datacenters.map(\.id).joined(separator: ", ") + ")")
            }
            parsed.append(e)
        }
        let result = Replay(topology: topology, events: parsed, passInterval: passInterval).run(jobs, progressEvery: progressEvery, progress: progress, final: final)
        return ReplaySummary(result, label: label, overrides: overrides, promises: promises)
    }
}
