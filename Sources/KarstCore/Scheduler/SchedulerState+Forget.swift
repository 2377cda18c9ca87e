extension SchedulerState {
    /// Drops finished jobs that ended before `cutoff` (retention). Returns how many.
    @discardableResult
    public mutating func forget(finishedBefore cutoff: Instant) -> Int {
        var old: [JobID] = []
        jobs.forEach { id, job in
            if job.state.isTerminal, let f = job.finishedAt, f < cutoff { old.append(id) }
        }
        for id in old { jobs.removeValue(forKey: id) }
        jobs.releaseEmptyPages()
        return old.count
    }
}
