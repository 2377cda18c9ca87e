/// Dependencies (`dependsOn`, after success).
///
/// A job whose dependencies have not all succeeded stays `pending` with reason `dependency:ID`
/// but out of the queue, so it costs a pass nothing. When the last one succeeds it joins the
/// queue at the rank its submit time gives it. When one fails or is cancelled, the next pass fails
/// it too (and, in turn, whatever waits for it).
///
/// Cycles cannot form: a job may only depend on jobs that already exist (in a batch, on jobs
/// earlier in the same batch), so every edge points to a lower id. A reference to the job itself
/// or to a later one is rejected as a cycle.
extension SchedulerState {
    /// `ownID` is the id the job will get; `batchStart`…`batchEnd` (exclusive) the ids of its batch.
    func checkDependencies(_ spec: JobSpec, ownID: JobID, batchStart: JobID, batchEnd: JobID? = nil) throws(SchedulerError) {
        let end = batchEnd ?? JobID(ownID.rawValue + 1)
        var seen = Set<JobID>()
        for (i, dep) in spec.dependsOn.enumerated() {
            let field = "dependsOn[\(i)]"
            guard seen.insert(dep).inserted else {
                throw .invalidJob(field: field, reason: "\(dep) is listed twice")
            }
            if dep >= ownID, dep < end {
                throw .invalidJob(field: field, reason: "dependency cycle: \(dep) is "
                    + (dep == ownID ? "this job" : "submitted after it in the same batch"))
            }
            if dep >= batchStart, dep < ownID { continue }  // an earlier job of the same batch
            guard let job = jobs[dep] else {
                throw .invalidJob(field: field, reason: "unknown job \(dep)")
            }
            if job.state == .failed || job.state == .cancelled {
                throw .invalidJob(field: field, reason: "\(dep) has \(job.state.rawValue); this job could never run")
            }
        }
    }

    /// Records a new (or restored) waiting job's unmet dependencies. A dependency that no longer
    /// exists was pruned after finishing; a failed one would have failed this job before being
    /// pruned, so it counts as met.
    mutating func registerDependencies(_ job: inout Job) {
        guard !job.spec.dependsOn.isEmpty, !job.state.isTerminal, !job.state.holdsCapacity else { return }
        var unmet = 0
        var firstUnmet: JobID? = nil
        for dep in job.spec.dependsOn {
            guard let d = jobs[dep] else { continue }
            switch d.state {
            case .succeeded: continue
            case .failed, .cancelled:
                doomed.append((job.id, dep))
                continue
            default:
                unmet += 1
                firstUnmet = firstUnmet ?? dep
                dependents[dep, default: []].append(job.id)
            }
        }
        guard unmet > 0, let firstUnmet else { return }
        unmetDependencies[job.id] = unmet
        if job.state == .pending { job.pendingReason = .dependency(on: firstUnmet) }
    }

    /// The first of `job`'s dependencies it still waits for (named in its pending reason); nil
    /// when it waits for none.
    func firstUnmetDependency(of job: Job) -> JobID? {
        guard unmetDependencies[job.id] != nil else { return nil }
        return job.spec.dependsOn.first { dependents[$0]?.contains(job.id) == true }
    }

    /// Called when `id` reaches a terminal state: releases or dooms the jobs waiting for it.
    mutating func settleDependents(of id: JobID, succeeded: Bool) {
        unmetDependencies[id] = nil
        guard let waiting = dependents.removeValue(forKey: id) else { return }
        for w in waiting {
            guard let left = unmetDependencies[w], let job = jobs[w], !job.state.isTerminal else { continue }
            guard succeeded else {
                doomed.append((w, id))
                continue
            }
            if left > 1 {
                unmetDependencies[w] = left - 1
                if job.state == .pending, let next = firstUnmetDependency(of: job) {
                    jobs.update(w) { $0.pendingReason = .dependency(on: next) }
                }
                continue
            }
            unmetDependencies[w] = nil
            if job.state == .pending {
                jobs.update(w) { $0.pendingReason = .priority }
                enqueue(job)
            }
        }
    }

    /// Fails every doomed job still waiting (and, through `transition`, dooms what waits for
    /// them in turn, handled in the same call). Returns the `failed` events.
    mutating func failDoomed(now: Instant) -> [Event] {
        var events: [Event] = []
        while !doomed.isEmpty {
            let batch = doomed
            doomed.removeAll()
            for (id, cause) in batch {
                guard let job = jobs[id], job.state == .pending || job.state == .held else { continue }
                let why = "dependency \(cause) \(jobs[cause]?.state.rawValue ?? "failed")"
                guard var failed = try? transition(id, .abandon, now: now) else { continue }
                failed.message = why
                jobs[id] = failed
                events.append(Event(kind: .failed, at: now, job: failed, detail: why))
            }
        }
        return events
    }
}
