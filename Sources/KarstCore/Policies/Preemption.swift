/// Preemption with damping.
///
/// A pending job that fits nowhere may evict running jobs in one pool when
/// - its class may preempt (`can_preempt`): victims are preemptible jobs of lower classes; or
/// - its tenant works within its quota: victims are other tenants' preemptible jobs running on
///   borrowed capacity (quota reclaim).
///
/// Among pools that pass every other check, the victim set frees enough with the least lost work
/// (seconds run × the share of the pool each holds), then the fewest victims. Damping: a job
/// preempted `maxPreemptionsPerJob` times is no longer a victim; a pool evicts at most
/// `poolPreemptionsPerMinute` jobs a minute; a job never evicts the job that evicted it (no
/// cycles). The eviction and the preemptor's placement are applied together, so the freed
/// capacity goes to the preemptor and nothing else. A site agent's run is not evicted at once:
/// it is asked to stop, and the preemptor is nominated to its pool (`Nomination`) until every
/// such victim confirmed.
extension SchedulerState {
    /// A pool and the jobs to evict from it.
    struct PreemptionChoice {
        var site: Int
        var victims: [JobID]
        var freed: Resources
        var lostWork: Double
    }

    private struct Candidate {
        var id: JobID
        var frees: Resources
        var lost: Double
    }

    /// The cheapest victim set for `job`, or nil when none frees enough.
    func preemption(for job: Job, now: Instant, sites: [PoolSite], free: [Resources], usage: [Resources],
                    taken: Set<JobID>, budget: [Int], book: ReservationBook) -> PreemptionChoice? {
        let d = job.demand
        let byClass = topology.classes[d.classIndex].canPreempt
        let reclaim = tenants.quotas[d.tenantIndex].map { (usage[d.tenantIndex] + d.total).fits(in: $0) } ?? false
        guard byClass || reclaim else { return nil }
        let maxPreemptions = topology.settings.maxPreemptionsPerJob
        var best: PreemptionChoice? = nil
        for (g, site) in sites.enumerated() where budget[g] > 0 && book.holder(of: g) == nil {
            guard FeasibilityCheck.allowsApartFromLoad(d, site, rtt: rtt) else { continue }
            var candidates: [Candidate] = []
            for v in running[g] where v.preemptible && v.preemptions < maxPreemptions {
                // An agent's run already asked to stop frees its capacity by itself.
                if v.onAgent, jobs[v.id]?.state != .running { continue }
                let lowerClass = byClass && Int(v.classIndex) > d.classIndex
                let borrowedElsewhere = reclaim && v.borrowed && Int(v.tenantIndex) != d.tenantIndex
                guard lowerClass || borrowedElsewhere, !taken.contains(v.id), !job.preemptedBy.contains(v.id) else { continue }
                let frees = v.release.amount
                let ran = max(0, v.startedAt.seconds(to: now))
                candidates.append(Candidate(id: v.id, frees: frees, lost: ran * frees.dominantShare(of: site.capacity)))
            }
            guard let choice = cheapestSet(candidates, need: d.total, free: free[g], site: g),
                  choice.victims.count <= budget[g] else { continue }
            if let b = best, (b.lostWork, b.victims.count) <= (choice.lostWork, choice.victims.count) { continue }
            best = choice
        }
        return best
    }

    /// Greedy by lost work (ties: the larger, then the newer job first), then drops every victim
    /// the rest make unnecessary, most lost work first.
    private func cheapestSet(_ candidates: [Candidate], need: Resources, free: Resources, site: Int) -> PreemptionChoice? {
        // Not even every candidate together frees enough: no set does (and no need to sort).
        guard need.fits(in: candidates.reduce(free) { $0 + $1.frees }) else { return nil }
        let order = candidates.sorted {
            if $0.lost != $1.lost { return $0.lost < $1.lost }
            let a = $0.frees.milliCPU + $0.frees.memoryMiB + $0.frees.accelerators * 1_000_000
            let b = $1.frees.milliCPU + $1.frees.memoryMiB + $1.frees.accelerators * 1_000_000
            return a != b ? a > b : $0.id > $1.id
        }
        var available = free
        var chosen: [Candidate] = []
        for c in order where !need.fits(in: available) {
            let helps = (need.milliCPU > available.milliCPU && c.frees.milliCPU > 0)
                || (need.memoryMiB > available.memoryMiB && c.frees.memoryMiB > 0)
                || (need.accelerators > available.accelerators && c.frees.accelerators > 0)
            guard helps else { continue }
            chosen.append(c)
            available += c.frees
        }
        guard need.fits(in: available) else { return nil }
        // A single victim that frees enough alone may beat the greedy set on count.
        if let single = order.first(where: { need.fits(in: free + $0.frees) }),
           (single.lost, 1) <= (chosen.reduce(0) { $0 + $1.lost }, chosen.count) {
            chosen = [single]
            available = free + single.frees
        }
        for c in chosen.sorted(by: { $0.lost > $1.lost }) where need.fits(in: available - c.frees) {
            available -= c.frees
            chosen.removeAll { $0.id == c.id }
        }
        return PreemptionChoice(site: site, victims: chosen.map(\.id).sorted(),
                                freed: chosen.reduce(.zero) { $0 + $1.frees },
                                lostWork: chosen.reduce(0) { $0 + $1.lost })
    }

    /// Evictions each pool may still make this minute.
    func evictionBudgets(now: Instant) -> [Int] {
        let limit = topology.settings.poolPreemptionsPerMinute
        let since = now.advanced(bySeconds: -60)
        return recentPreemptions.map { times in max(0, limit - times.lazy.filter { $0 > since }.count) }
    }
}
