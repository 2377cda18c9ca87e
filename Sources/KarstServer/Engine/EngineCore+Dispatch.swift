import KarstCore
import KarstProtocol
import KarstWire

extension EngineCore {
    /// Carries out one decoded call. Permissions and core errors end as a named Varlink error.
    func handle(_ r: EngineRequest, now: Instant, events: inout [Event]) -> Outcome {
        do throws(VarlinkError) {
            let c = r.caller
            switch r.command {
            case .submit(let spec, let dryRun): return try submit(spec, dryRun: dryRun, c, now, &events)
            case .submitBatch(let specs, let brief): return try submitBatch(specs, brief: brief, c, now, &events)
            case .get(let id): return try get(id)
            case .list(let query): return try list(query)
            case .cancel(let id):
                return try transition(id, c, now, &events) { s, id, t throws(SchedulerError) in try s.cancel(id, now: t) }
            case .hold(let id):
                return try transition(id, c, now, &events) { s, id, t throws(SchedulerError) in try s.hold(id, now: t) }
            case .release(let id):
                return try transition(id, c, now, &events) { s, id, t throws(SchedulerError) in try s.release(id, now: t) }
            case .complete(let id, let succeeded, let message): return try complete(id, succeeded, message, c, now, &events)
            case .watch(let filter): return try watch(filter, r)
            case .topology: return topology()
            case .drain(let dc, let stopRuns):
                return try datacenterOp(dc, c, now: now, events: &events) { s, dc, t throws(SchedulerError) in
                    stopRuns ? try s.drainStopping(dc, now: t) : (try s.drain(dc), [])
                }
            case .resume(let dc):
                return try datacenterOp(dc, c, now: now, events: &events) { s, dc, _ throws(SchedulerError) in (try s.resume(dc), []) }
            case .setOffline(let dc):
                return try datacenterOp(dc, c, now: now, events: &events) { s, dc, t throws(SchedulerError) in try s.setOffline(dc, now: t) }
            case .stats: return stats()
            case .metrics: return metricsText()
            case .agents: return agentList()
            case .reload: return try reloadCall(r, now)
            case .backup(let path): return try backup(path, r)
            case .agentConnect(let agent, let dc, let backend, let host, let epoch):
                return try agentConnect(agent, datacenter: dc, backend: backend, host: host, epoch: epoch, r, now)
            case .agentHeartbeat(let agent, let session, let epoch): return try agentHeartbeat(agent, session, epoch, c, now)
            case .agentStarted(let session, let run, let place, let epoch):
                return try agentStarted(place, session, epoch, run, c, now, &events)
            case .agentEnded(let agent, let session, let run, let outcome, let epoch):
                return try agentEnded(agent, session, epoch, run, outcome, c, now, &events)
            }
        } catch {
            return .error(error)
        }
    }

    func requireAdmin(_ c: Caller, _ method: String) throws(VarlinkError) {
        guard c.isAdmin else { throw denied(c, method) }
    }

    func denied(_ c: Caller, _ what: String) -> VarlinkError {
        logger.warning("permission denied: \(what) by \(c)",
                       metadata: ["uid": "\(c.uid)", "pid": "\(c.pid)", "user": "\(c.user)"])
        return .permissionDenied
    }

    /// The tenant a spec is charged to: the caller's own, unless an admin names another.
    func resolveTenant(_ spec: inout JobSpec, _ c: Caller, _ method: String) throws(VarlinkError) {
        guard c.canSubmit else { throw denied(c, method) }
        if let t = spec.tenant, t != c.user, !c.isAdmin { throw denied(c, "\(method) for tenant \(t)") }
        if spec.tenant == nil { spec.tenant = c.user }
    }

    func core<T>(_ body: () throws(SchedulerError) -> T) throws(VarlinkError) -> T {
        do { return try body() } catch { throw WireMapping.error(error) }
    }

    /// A reply `{"job": …}` with the job as it is once the batch is applied; `withPosition`
    /// adds its queue position (a walk of the queue: for `Get`, not for the submit hot path).
    func jobReply(_ id: JobID, withPosition: Bool = false) -> Outcome {
        .job(id, withPosition: withPosition)
    }

    /// The snapshot a `.job` outcome is answered with (rendered by whoever delivers it).
    static func jobSnapshot(_ id: JobID, withPosition: Bool, in state: borrowing SchedulerState) -> JobSnapshot? {
        guard let job = state.job(id) else { return nil }
        var position: Int? = nil
        if withPosition, job.state == .pending {
            var scratch = copy state
            position = scratch.queuePosition(of: id)
        }
        return JobSnapshot(job, in: state, queuePosition: position)
    }
}
