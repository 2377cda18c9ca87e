/// A running job as its pool's running list keeps it: what the preemption victim search and
/// backfill need, so that neither reads (and copies) the whole job for each of thousands of
/// running jobs. Every field is fixed for the length of the run.
struct RunningEntry: Sendable {
    var id: JobID
    /// When the job is expected to end and what it frees in this pool then.
    var release: Release
    var startedAt: Instant
    var classIndex: Int32
    var tenantIndex: Int32
    /// Times the job was preempted before this run.
    var preemptions: Int32
    var preemptible: Bool
    /// Whether it runs on capacity borrowed beyond its tenant's quota (reclaimable).
    var borrowed: Bool
    /// Whether a site agent runs it (then it may be `stopping`, no longer a victim to choose).
    var onAgent: Bool

    init(_ job: Job, release: Release) {
        id = job.id
        self.release = release
        startedAt = job.startedAt ?? release.at
        classIndex = Int32(job.demand.classIndex)
        tenantIndex = Int32(job.demand.tenantIndex)
        preemptions = Int32(clamping: job.preemptions)
        preemptible = job.demand.preemptible
        borrowed = job.borrowed
        onAgent = job.spec.runsCommand
    }
}
