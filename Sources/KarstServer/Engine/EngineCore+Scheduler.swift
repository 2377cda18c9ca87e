import KarstCore
import KarstJSON
import KarstProtocol

/// `io.karst.Scheduler` handlers.
extension EngineCore {
    /// A `Submit` call's parameters as a spec (and whether it is a dry run): decoded by the
    /// connection that read the call, off the engine thread, or here when it was not.
    struct SubmitParameters: Sendable {
        var spec: JobSpec
        var dryRun: Bool

        init(_ parameters: JSONObject) throws(VarlinkError) {
            var p = ParameterReader(parameters)
            var jobParams = try p.requiredObject("job")
            dryRun = try p.bool("dryRun") ?? false
            try p.finish()
            spec = try WireMapping.spec(try WireJobSpec(&jobParams), path: "job")
        }
    }

    func submit(_ decoded: SubmitParameters, _ c: Caller, _ now: Instant, _ events: inout [Event]) throws(VarlinkError) -> Outcome {
        var spec = decoded.spec
        let dryRun = decoded.dryRun
        try resolveTenant(&spec, c, "Submit")
        if dryRun {
            let answer = try core { () throws(SchedulerError) in try state.dryRun(spec, now: now) }
            return .reply { state, core in
                VarlinkReply.frame { w in
                    w.key("job")
                    var wire = WireMapping.job(answer.job, in: state, queuePosition: answer.queuePosition)
                    wire.estimatedStart = answer.estimatedStart?.rfc3339
                    if let ref = answer.pool {
                        let (dc, pool) = state.names(of: ref)
                        wire.datacenter = dc
                        wire.pool = pool
                    }
                    if !answer.shards.isEmpty { wire.shards = answer.shards.map { WireShard(pool: state.names(of: $0.pool).pool, replicas: $0.replicas) } }
                    if !answer.preempts.isEmpty { wire.preempts = answer.preempts.map(\.description) }
                    wire.write(to: &w)
                }
            }
        }
        let event = try core { () throws(SchedulerError) in try state.submit(spec, now: now) }
        events.append(event)
        return jobReply(event.job.id)
    }

    func submitBatch(_ p: inout ParameterReader, _ c: Caller, _ now: Instant, _ events: inout [Event]) throws(VarlinkError) -> Outcome {
        guard let readers = try p.objects("jobs") else { throw VarlinkError.invalidParameter("jobs") }
        try p.finish()
        try CallBounds.check(readers.count, atMost: CallBounds.maxBatchJobs, "jobs", "jobs in one batch")
        var specs: [JobSpec] = []
        specs.reserveCapacity(readers.count)
        for (i, var r) in readers.enumerated() {
            var spec = try WireMapping.spec(try WireJobSpec(&r), path: "jobs[\(i)]")
            try resolveTenant(&spec, c, "SubmitBatch")
            specs.append(spec)
        }
        let accepted = try core { () throws(SchedulerError) in try state.submitBatch(specs, now: now) }
        events += accepted
        let ids = accepted.map { (e: Event) in e.job.id }
        return .reply { state, core in
            VarlinkReply.frame { w in
                w.key("jobs")
                w.beginArray()
                for id in ids { if let job = state.job(id) { WireMapping.job(job, in: state).write(to: &w) } }
                w.endArray()
            }
        }
    }

    func get(_ p: inout ParameterReader) throws(VarlinkError) -> Outcome {
        let id = try jobID(&p)
        try p.finish()
        guard state.job(id) != nil else { throw VarlinkError("io.karst.Scheduler.NoSuchJob", ["id": .string(id.description)]) }
        return jobReply(id, withPosition: true)
    }

    func list(_ p: inout ParameterReader) throws(VarlinkError) -> Outcome {
        let stateName = try p.string("state")
        let tenant = try p.string("tenant")
        let datacenter = try p.string("datacenter")
        let limit = try p.int("limit") ?? CallBounds.defaultListLimit
        try p.finish()
        try CallBounds.checkName(stateName, "state")
        try CallBounds.checkName(tenant, "tenant")
        try CallBounds.checkName(datacenter, "datacenter")
        var filter: JobState? = nil
        if let stateName {
            guard let s = JobState(rawValue: stateName) else { throw VarlinkError.invalidParameter("state") }
            filter = s
        }
        guard CallBounds.listLimit.contains(limit) else {
            throw VarlinkError.outOfRange("limit", "must be between \(CallBounds.listLimit.lowerBound) and \(CallBounds.listLimit.upperBound), not \(limit)")
        }
        if let datacenter, state.topology.datacenterIndex(of: datacenter) == nil {
            throw VarlinkError("io.karst.Admin.NoSuchDatacenter", ["datacenter": .string(datacenter)])
        }
        return .reply { state, core in
            let jobs = state.jobs(state: filter, tenant: tenant, datacenter: datacenter, limit: limit)
            var positions: [JobID: Int] = [:]
            if jobs.contains(where: { $0.state == .pending }) {
                var scratch = copy state
                positions = scratch.queuePositions()
            }
            return VarlinkReply.frame { w in
                w.key("jobs")
                w.beginArray()
                for job in jobs { WireMapping.job(job, in: state, queuePosition: positions[job.id]).write(to: &w) }
                w.endArray()
            }
        }
    }

    /// Cancel, Hold, Release: a submitter may act on its own tenant's jobs, an admin on any.
    func transition(_ p: inout ParameterReader, _ c: Caller, _ now: Instant, _ events: inout [Event],
                    _ op: (inout SchedulerState, JobID, Instant) throws(SchedulerError) -> Event) throws(VarlinkError) -> Outcome {
        let id = try jobID(&p)
        try p.finish()
        guard let job = state.job(id) else {
            throw VarlinkError("io.karst.Scheduler.NoSuchJob", ["id": .string(id.description)])
        }
        guard c.isAdmin || (c.canSubmit && job.tenant == c.user) else { throw denied(c, "change \(id) of tenant \(job.tenant)") }
        let event = try core { () throws(SchedulerError) in try op(&state, id, now) }
        events.append(event)
        return jobReply(id)
    }

    func complete(_ p: inout ParameterReader, _ c: Caller, _ now: Instant, _ events: inout [Event]) throws(VarlinkError) -> Outcome {
        let id = try jobID(&p)
        let outcome = try p.requiredString("outcome")
        let message = try p.string("message")
        try p.finish()
        guard c.canExecute else { throw denied(c, "Complete \(id)") }
        guard outcome == "succeeded" || outcome == "failed" else {
            throw VarlinkError.outOfRange("outcome", "must be \"succeeded\" or \"failed\"")
        }
        try CallBounds.check(message?.utf8.count ?? 0, atMost: CallBounds.maxCompleteMessageBytes, "message", "bytes")
        let event = try core { () throws(SchedulerError) in
            try state.complete(id, succeeded: outcome == "succeeded", message: message, now: now)
        }
        events.append(event)
        return jobReply(id)
    }

    func watch(_ p: inout ParameterReader, _ r: EngineRequest) throws(VarlinkError) -> Outcome {
        let idTexts = try p.strings("ids")
        let tenant = try p.string("tenant")
        try p.finish()
        try CallBounds.checkName(tenant, "tenant")
        guard r.call.more, let send = r.stream else { throw VarlinkError.expectedMore }
        var ids: Set<JobID>? = nil
        if let idTexts {
            try CallBounds.check(idTexts.count, atMost: CallBounds.maxWatchIDs, "ids", "entries")
            var set = Set<JobID>()
            for (i, t) in idTexts.enumerated() {
                guard let id = JobID(t) else { throw VarlinkError.invalidParameter("ids[\(i)]") }
                set.insert(id)
            }
            ids = set
        }
        watchers[r.watchID] = Watcher(ids: ids, tenant: tenant, send: send, respond: { r.answer($0) })
        return .streaming
    }
}
