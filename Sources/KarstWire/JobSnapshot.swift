import KarstCore

/// A job as the state had it when its reply was due, with the names of its pools (which only
/// the state knows), ready to be rendered on any thread.
///
/// A class: a reply is moved through several arrays on its way to the socket, and a job is
/// hundreds of bytes, so it is boxed once instead of copied at every move.
public final class JobSnapshot: Sendable {
    public let job: Job
    public let datacenter: String?
    public let pool: String?
    public let shardPools: [String]
    public let queuePosition: Int?
    /// The site agent its current run is leased to (else its latest run's), and the site's id
    /// for the run.
    public let agent: String?
    public let siteID: String?

    public init(_ job: Job, in state: borrowing SchedulerState, queuePosition: Int? = nil) {
        self.job = job
        (datacenter, pool, shardPools) = Self.place(of: job, in: state)
        let lease = job.spec.runsCommand ? state.agents.lease(of: job.id) : nil
        agent = lease?.agent.name ?? job.lastRun?.agent
        siteID = lease.map { $0.siteID } ?? job.lastRun?.siteID
        self.queuePosition = queuePosition
    }

    /// Where a job's current (or last) run is placed, by name: its data centre and pool, and
    /// each shard's pool for a gang split over several (`Job` and `JobSummary` alike).
    public static func place(of job: Job, in state: borrowing SchedulerState)
        -> (datacenter: String?, pool: String?, shardPools: [String]) {
        let place = job.placement.map { state.names(of: $0) }
        return (place?.datacenter, place?.pool, job.shards.map { state.names(of: $0.pool).pool })
    }
}
