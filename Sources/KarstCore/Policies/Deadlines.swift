import HeapModule

/// Deadlines: who is at risk of missing one (ranked ahead of its class, earliest deadline first)
/// and who has missed one (a `deadline-missed` event, once per job).
struct DeadlineBook: Sendable {
    struct Key: Comparable, Sendable {
        var at: Instant
        var id: JobID
        static func < (a: Key, b: Key) -> Bool { a.at != b.at ? a.at < b.at : a.id < b.id }
    }

    /// A queued job at risk, in the order the pass examines them.
    struct AtRisk: Comparable, Sendable {
        var classIndex: Int
        var deadline: Instant
        var id: JobID
        static func < (a: AtRisk, b: AtRisk) -> Bool {
            (a.classIndex, a.deadline.microseconds, a.id.rawValue) < (b.classIndex, b.deadline.microseconds, b.id.rawValue)
        }
    }

    /// Queued jobs with a deadline, by latest start (deadline − expected run time). Lazy: a key
    /// whose job has left the queue is dropped when it surfaces.
    var byLatestStart = Heap<Key>()
    /// Queued jobs whose latest start is within the slack: examined first in their class.
    var atRisk: [AtRisk] = []
    var atRiskIDs = Set<JobID>()
    /// Unfinished jobs with a deadline not yet reported missed, by deadline.
    var byDeadline = Heap<Key>()
}

extension SchedulerState {
    /// Notes a queued job's latest start (called whenever it joins the queue).
    mutating func trackAtRisk(_ job: Job) {
        guard let deadline = job.spec.deadline else { return }
        deadlines.byLatestStart.insert(.init(at: deadline.advanced(bySeconds: -job.demand.estimatedSeconds), id: job.id))
    }

    /// Notes an unfinished job's deadline, to report it if missed.
    mutating func trackDeadline(_ job: Job) {
        guard let deadline = job.spec.deadline, !job.deadlineMissed, !job.state.isTerminal else { return }
        deadlines.byDeadline.insert(.init(at: deadline, id: job.id))
    }

    /// Moves queued jobs whose latest start is within the slack into the at-risk lane and drops
    /// those no longer queued.
    mutating func refreshAtRisk(now: Instant) {
        let horizon = now.advanced(bySeconds: topology.settings.deadlineSlackSeconds)
        var added = false
        while let top = deadlines.byLatestStart.min, top.at <= horizon {
            deadlines.byLatestStart.removeMin()
            guard queue.contains(top.id), let job = jobs[top.id], let deadline = job.spec.deadline,
                  deadlines.atRiskIDs.insert(top.id).inserted else { continue }
            deadlines.atRisk.append(.init(classIndex: job.demand.classIndex, deadline: deadline, id: top.id))
            added = true
        }
        if deadlines.atRisk.contains(where: { !queue.contains($0.id) }) {
            deadlines.atRisk.removeAll { e in
                guard !queue.contains(e.id) else { return false }
                deadlines.atRiskIDs.remove(e.id)
                return true
            }
        }
        if added { deadlines.atRisk.sort() }
    }

    /// Jobs whose deadline has passed while they were unfinished (or that finished late), each
    /// reported once.
    mutating func dueDeadlines(now: Instant) -> [JobID] {
        var missed: [JobID] = []
        while let top = deadlines.byDeadline.min, top.at < now {
            deadlines.byDeadline.removeMin()
            guard let job = jobs[top.id], !job.deadlineMissed, job.state != .cancelled else { continue }
            if job.state == .succeeded || job.state == .failed, let end = job.finishedAt, end <= top.at { continue }
            missed.append(top.id)
        }
        return missed
    }
}
