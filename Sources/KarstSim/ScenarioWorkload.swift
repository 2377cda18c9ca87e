import KarstCore
import KarstTrace

extension Scenario {
    /// The trace as this scenario replays it: each region's jobs repeated by its load factor and
    /// classes given their flexibility windows. A factor f keeps ⌊f⌋ copies of each job and one
    /// more with probability f − ⌊f⌋; copy k ≥ 1 arrives a uniform 0–299 s later and is named
    /// `<name>.k`. Deterministic in `seed`; the result is ordered by arrival.
    public func workload(_ trace: [TraceJob], seed: UInt64) -> [TraceJob] {
        if load.isEmpty && flex.isEmpty { return trace }
        var rng = SeededRandom(seed: seed ^ 0x5CA1_AB1E)
        var out: [TraceJob] = []
        out.reserveCapacity(trace.count)
        var copiesAdded = false
        for var job in trace {
            if let window = flex[job.spec.priorityClass], job.spec.notAfter == nil {
                job.spec.notAfter = job.submitAt.advanced(bySeconds: window)
                job.spec.deadline = job.submitAt.advanced(bySeconds: window + (job.spec.durationSeconds ?? 0))
            }
            guard let factor = load[job.spec.origin] ?? load["*"] else {
                out.append(job)
                continue
            }
            var copies = Int(factor.rounded(.down))
            if rng.unit() < factor - Double(copies) { copies += 1 }
            for k in 0..<copies {
                var copy = job
                if k > 0 {
                    copiesAdded = true
                    let shift = Double(rng.next() % 300)
                    copy.submitAt = job.submitAt.advanced(bySeconds: shift)
                    copy.spec.name = (job.spec.name ?? "job") + ".\(k)"
                    copy.spec.notAfter = job.spec.notAfter?.advanced(bySeconds: shift)
                    copy.spec.deadline = job.spec.deadline?.advanced(bySeconds: shift)
                }
                out.append(copy)
            }
        }
        if copiesAdded { out.sort { $0.submitAt < $1.submitAt } }
        return out
    }
}
