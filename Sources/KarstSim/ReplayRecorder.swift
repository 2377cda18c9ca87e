import KarstCore
import KarstTrace

/// Folds a replay's events into a `ReplayResult`: tracks each job's state (so any event kind,
/// present or future, is accounted by the state it leaves the job in), integrates pool use and
/// queue depth over time, and totals tenants' use.
struct ReplayRecorder {
    var result: ReplayResult
    private var clock: Instant
    private var pending: [Int]
    private var tenantIndex: [String: Int32] = [:]
    /// When each job's current run started (µs), or −1.
    private var runStart: [Int64] = []
    private let capacity: [Resources]
    private let watts: [(core: Double, accelerator: Double)]
    /// The id number of the first job of the trace (ids before it are not the trace's).
    private let firstJob: Int

    init(topology: Topology, origin: Instant, poolRefs: [PoolRef], firstJob: UInt64) {
        self.firstJob = Int(firstJob)
        result = ReplayResult(topology: topology, origin: origin, poolRefs: poolRefs)
        clock = origin
        pending = Array(repeating: 0, count: topology.classes.count)
        capacity = poolRefs.map { topology.datacenters[$0.datacenter].pools[$0.pool].capacity }
        watts = poolRefs.map {
            let p = topology.datacenters[$0.datacenter].pools[$0.pool]
            return (p.wattsPerCore, p.wattsPerAccelerator)
        }
    }

    /// Integrates the state as it was since the last call up to `now`.
    mutating func advance(to now: Instant, allocated: [Resources]) {
        guard now > clock else { return }
        let shares = allocated.indices.map { allocated[$0].dominantShare(of: capacity[$0]) }
        let power = allocated.indices.map { allocated[$0].cpu * watts[$0].core + Double(allocated[$0].accelerators) * watts[$0].accelerator }
        result.pools.add(from: clock, to: now) { k in k & 1 == 0 ? shares[k >> 1] : power[k >> 1] }
        let depth = pending
        result.queue.add(from: clock, to: now) { Double(depth[$0]) }
        clock = now
        result.end = now
    }

    /// Accounts one event.
    mutating func observe(_ e: Event) {
        let n = Int(e.job.id.rawValue) - firstJob
        guard n >= 0 else { return }
        result.coreEvents += 1
        let fresh = n == result.jobs.count
        if fresh { admit(e.job) }
        guard n < result.jobs.count else { return }
        let old: JobState? = fresh ? nil : result.jobs[n].state, new = e.job.state
        let at = e.at.microseconds
        if e.kind == .preempted { result.preemptions += 1 }
        if old == new { return }
        let c = Int(result.jobs[n].classIndex)
        if old == .pending { pending[c] -= 1 }
        if new == .pending { pending[c] += 1 }
        if old == .running { endRun(n, e.job, at: at) }
        if new == .running {
            runStart[n] = at
            result.jobs[n].runs += 1
            if result.jobs[n].firstStartAt < 0 {
                result.jobs[n].firstStartAt = at
                result.jobs[n].firstDatacenter = Int16(e.job.placement?.datacenter ?? -1)
            }
        }
        if new.isTerminal { result.jobs[n].finishedAt = at }
        result.jobs[n].state = new
    }

    /// Records a refused submission.
    mutating func reject(_ job: TraceJob, _ error: SchedulerError) {
        result.rejected.append((job.spec.name ?? "?", error.description))
    }

    /// Closes runs still open at the end of the replay.
    mutating func finish(jobs state: SchedulerState) -> ReplayResult {
        for n in runStart.indices where runStart[n] >= 0 {
            if let job = state.job(JobID(UInt64(n + firstJob))) { endRun(n, job, at: result.end.microseconds) }
        }
        return result
    }

    private mutating func admit(_ job: Job) {
        let t: Int32
        if let i = tenantIndex[job.tenant] {
            t = i
        } else {
            t = Int32(result.tenants.count)
            tenantIndex[job.tenant] = t
            result.tenants.append(job.tenant)
            result.tenantUsage.append((0, 0, 0))
        }
        let topology = result.topology
        result.jobs.append(JobOutcome(
            classIndex: Int16(topology.classIndex(of: job.spec.priorityClass) ?? 0),
            originIndex: Int16(topology.regionIndex(of: job.spec.origin) ?? 0), tenantIndex: t,
            state: job.state, submittedAt: job.submittedAt.microseconds,
            deadline: job.spec.deadline?.microseconds ?? -1, latestStart: job.spec.notAfter?.microseconds ?? -1))
        runStart.append(-1)
    }

    private mutating func endRun(_ n: Int, _ job: Job, at: Int64) {
        guard runStart[n] >= 0 else { return }
        let seconds = Double(at - runStart[n]) / 1_000_000
        let r = job.totalResources
        let t = Int(result.jobs[n].tenantIndex)
        result.tenantUsage[t].cpu += r.cpu * seconds
        result.tenantUsage[t].memoryGiB += r.memoryGiB * seconds
        result.tenantUsage[t].accelerators += Double(r.accelerators) * seconds
        runStart[n] = -1
    }
}
