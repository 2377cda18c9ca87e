import KarstCore
import KarstProtocol
import KarstWire

/// `io.karst.Scheduler` handlers.
extension EngineCore {
    func submit(_ submitted: JobSpec, dryRun: Bool, _ c: Caller, _ now: Instant, _ events: inout [Event]) throws(VarlinkError) -> Outcome {
        var spec = submitted
        try resolveTenant(&spec, c, "Submit")
        if dryRun {
            let answer = try core { () throws(SchedulerError) in try state.dryRun(spec, now: now) }
            return .reply { state, core in
                var wire = WireMapping.job(answer.job, in: state, queuePosition: answer.queuePosition)
                wire.estimatedStart = answer.estimatedStart?.rfc3339
                if let ref = answer.pool {
                    let (dc, pool) = state.names(of: ref)
                    wire.datacenter = dc
                    wire.pool = pool
                }
                if !answer.shards.isEmpty {
                    wire.shards = answer.shards.map { WireShard(pool: state.names(of: $0.pool).pool, replicas: $0.replicas) }
                }
                if !answer.preempts.isEmpty { wire.preempts = answer.preempts.map(\.description) }
                return VarlinkReply.frame(parameters: SchedulerInterface.Submit.Reply(job: wire))
            }
        }
        let event = try core { () throws(SchedulerError) in try state.submit(spec, now: now) }
        events.append(event)
        return jobReply(event.job.id)
    }

    func submitBatch(_ submitted: [JobSpec], brief: Bool, _ c: Caller, _ now: Instant, _ events: inout [Event]) throws(VarlinkError) -> Outcome {
        var specs = submitted
        for i in specs.indices { try resolveTenant(&specs[i], c, "SubmitBatch") }
        let accepted = try core { () throws(SchedulerError) in try state.submitBatch(specs, now: now) }
        events += accepted
        let ids = accepted.map { (e: Event) in e.job.id }
        if brief {
            return .reply { _, _ in
                VarlinkReply.frame(parameters: SchedulerInterface.SubmitBatch.Reply(jobs: [], ids: ids.map(\.description)))
            }
        }
        return .reply { state, core in
            VarlinkReply.frame(parameters: SchedulerInterface.SubmitBatch.Reply(
                jobs: ids.compactMap { id in state.job(id).map { WireMapping.job($0, in: state) } }))
        }
    }

    func get(_ id: JobID) throws(VarlinkError) -> Outcome {
        guard state.job(id) != nil else { throw SchedulerInterface.NoSuchJob(id: id.description).varlinkError }
        return jobReply(id, withPosition: true)
    }

    func list(_ q: Command.ListQuery) throws(VarlinkError) -> Outcome {
        if let datacenter = q.datacenter, state.topology.datacenterIndex(of: datacenter) == nil {
            throw AdminInterface.NoSuchDatacenter(datacenter: datacenter).varlinkError
        }
        return .reply { state, core in
            let (jobs, remaining) = state.jobPage(state: q.state, tenant: q.tenant, datacenter: q.datacenter,
                                                  after: q.after, limit: q.limit)
            var positions: [JobID: Int] = [:]
            if jobs.contains(where: { $0.state == .pending }) {
                var scratch = copy state
                positions = scratch.queuePositions()
            }
            if q.summaries {
                return VarlinkReply.frame(parameters: SchedulerInterface.ListSummaries.Reply(
                    jobs: jobs.map { WireMapping.summary($0, in: state, queuePosition: positions[$0.id]) },
                    remaining: remaining))
            }
            return VarlinkReply.frame(parameters: SchedulerInterface.List.Reply(
                jobs: jobs.map { WireMapping.job($0, in: state, queuePosition: positions[$0.id]) },
                remaining: remaining))
        }
    }

    /// Cancel, Hold, Release: a submitter may act on its own tenant's jobs, an admin on any.
    func transition(_ id: JobID, _ c: Caller, _ now: Instant, _ events: inout [Event],
                    _ op: (inout SchedulerState, JobID, Instant) throws(SchedulerError) -> Event) throws(VarlinkError) -> Outcome {
        guard let job = state.job(id) else { throw SchedulerInterface.NoSuchJob(id: id.description).varlinkError }
        guard c.isAdmin || (c.canSubmit && job.tenant == c.user) else { throw denied(c, "change \(id) of tenant \(job.tenant)") }
        let event = try core { () throws(SchedulerError) in try op(&state, id, now) }
        events.append(event)
        return jobReply(id)
    }

    func complete(_ id: JobID, _ succeeded: Bool, _ message: String?, _ c: Caller, _ now: Instant,
                  _ events: inout [Event]) throws(VarlinkError) -> Outcome {
        guard c.canExecute else { throw denied(c, "Complete \(id)") }
        let event = try core { () throws(SchedulerError) in
            try state.complete(id, succeeded: succeeded, message: message, now: now)
        }
        events.append(event)
        return jobReply(id)
    }

    func watch(_ filter: Command.WatchFilter, _ r: EngineRequest) throws(VarlinkError) -> Outcome {
        // The connection serves one watch at a time: a second one has no stream.
        guard let send = r.stream else { throw VarlinkError.expectedMore }
        watchers[r.watchID] = Watcher(ids: filter.ids, tenant: filter.tenant, send: send, respond: { r.answer($0) })
        return .streaming
    }
}
