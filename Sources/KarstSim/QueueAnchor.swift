import KarstCore

/// WORKAROUND for a KarstCore bug (reported, not fixed here: the core is not the simulator's to
/// change). `PendingQueue.compact()` drops the membership table's leading pages once they hold no
/// pending job; requeueing a job whose id lies on a dropped page (a retry, a site going offline,
/// a preemption) then stops the process in `JobTable`'s setter ("older than the pages kept").
///
/// The replay submits one anchor job first: tiny, of the lowest class, its window opening in
/// the year 9999, so it stays pending and page 0 is never empty. It is left out of every figure;
/// its only effect on scheduling is one extra `window` miss per pass that reaches it.
enum QueueAnchor {
    static let tenant = "~karst-sim-anchor"

    /// Submits the anchor; returns false if no class and region admit it.
    static func submit(into state: inout SchedulerState, now: Instant) -> Bool {
        let t = state.topology
        for c in t.classes.reversed() {
            for r in t.regions {
                let spec = JobSpec(name: "anchor", tenant: tenant, origin: r.id, priorityClass: c.id,
                                   resources: ResourceRequest(cpu: 0.001, memoryGiB: 0.001),
                                   notBefore: Instant(rfc3339: "9999-01-01T00:00:00Z"))
                if (try? state.submit(spec, now: now)) != nil { return true }
            }
        }
        return false
    }
}
