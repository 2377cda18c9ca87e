import Foundation
import KarstConfig
import KarstCore
import KarstProtocol
import KarstStore
import KarstWire

/// `io.karst.Admin` handlers and reload.
extension EngineCore {
    func topology() -> Outcome {
        .reply { state, core in
            VarlinkReply.frame(parameters: AdminInterface.Topology.Reply(
                datacenters: state.usage.map { WireMapping.datacenter($0, in: state.topology) }))
        }
    }

    func datacenterOp(_ dc: String, _ c: Caller, now: Instant, events: inout [Event],
                      _ op: (inout SchedulerState, String, Instant) throws(SchedulerError) -> (DatacenterUsage, [Event]))
        throws(VarlinkError) -> Outcome
    {
        try requireAdmin(c, "datacenter operation on \(dc)")
        let (_, caused) = try core { () throws(SchedulerError) in try op(&state, dc, now) }
        events += caused
        metaChanged = true
        logger.notice("datacenter \(dc) is now \(state.usage.first { $0.id == dc }?.state.rawValue ?? "?") (by \(c))",
                      metadata: ["datacenter": "\(dc)"])
        return .reply { state, core in
            // Drain, Resume and SetOffline reply alike: the data centre as it is now.
            let u = state.usage.first { $0.id == dc }!
            return VarlinkReply.frame(parameters: AdminInterface.Drain.Reply(datacenter: WireMapping.datacenter(u, in: state.topology)))
        }
    }

    func stats() -> Outcome {
        .reply { state, core in
            let byClass = state.pendingByClass
            return VarlinkReply.frame(parameters: AdminInterface.Stats.Reply(
                pending: state.topology.classes.map { WireClassStats(class: $0.id, pending: byClass[$0.id] ?? 0) },
                running: state.runningTotal,
                placementsPerSecond: (core.placementsPerSecond * 10).rounded() / 10,
                tenants: state.tenantShares.map {
                    WireTenantStats(tenant: $0.tenant, weight: $0.weight, dominantShare: ($0.dominantShare * 1e6).rounded() / 1e6,
                                    usage: WireMapping.capacity($0.usage))
                },
                generation: core.generation, watchers: core.watchers.count))
        }
    }

    /// Copies the state with SQLite's online backup from a read snapshot, as background work
    /// (`BackgroundWork`), and answers when the copy is complete: the engine keeps serving
    /// meanwhile.
    func backup(_ path: String, _ r: EngineRequest) throws(VarlinkError) -> Outcome {
        try requireAdmin(r.caller, "Backup")
        guard !FileManager.default.fileExists(atPath: path) else {
            throw VarlinkError.outOfRange("path", "must not exist yet: a backup never overwrites")
        }
        var isDirectory: ObjCBool = false
        let directory = "/" + path.split(separator: "/").dropLast().joined(separator: "/")
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw VarlinkError.outOfRange("path", "its directory \(directory) must exist")
        }
        guard let store else { throw VarlinkError.methodNotImplemented("io.karst.Admin.Backup (the daemon runs without state)") }
        guard let store = store as? KarstStore else {
            throw VarlinkError.methodNotImplemented("io.karst.Admin.Backup (the state is in PostgreSQL: back it up with pg_dump)")
        }
        let logger = self.logger
        let request = r
        runInBackground {
            let frame: [UInt8]
            do {
                let jobs = try store.backup(to: path)
                logger.notice("backup of \(jobs) jobs written to \(path)")
                frame = VarlinkReply.frame(parameters: AdminInterface.Backup.Reply(path: path, jobs: jobs))
            } catch {
                // The copy failed (the target's disk, its permissions): the state store is fine.
                logger.warning("backup to \(path) failed: \(error)")
                frame = VarlinkReply.frame(error: AdminInterface.BackupFailed(path: path, reason: "\(error)").varlinkError)
            }
            request.answer(frame)
        }
        return .streaming
    }

    /// Runs `work` as background work when the daemon has a `BackgroundWork` service, else
    /// here and now (a test driving the core directly). Refused work (the daemon is stopping)
    /// runs here too: it is short, and its caller is owed an answer.
    func runInBackground(_ work: @escaping @Sendable () -> Void) {
        if let background, background.enqueue(work) { return }
        work()
    }

    func metricsText() -> Outcome {
        .reply { state, core in VarlinkReply.frame(parameters: AdminInterface.Metrics.Reply(text: core.metrics.render())) }
    }

    /// Reads and validates the file as background work (a slow disk or a huge file must not
    /// stall the engine, or the watchdog), then swaps it in on the engine and answers after the
    /// batch that applied it is committed.
    func reloadCall(_ r: EngineRequest, _ now: Instant) throws(VarlinkError) -> Outcome {
        try requireAdmin(r.caller, "Reload")
        onReloadStart?()
        let reply: @Sendable (Result<Int, VarlinkError>) -> Void = { result in
            switch result {
            case .success(let g): r.answer(VarlinkReply.frame(parameters: AdminInterface.Reload.Reply(generation: g)))
            case .failure(let e): r.answer(VarlinkReply.frame(error: e))
            }
        }
        guard let submit = submitToSelf, background != nil else {
            // No engine thread (a test drives the core directly): read here.
            deferredReplies.append((reply, applyParsed(Self.readConfiguration(configPath), now: now)))
            return .streaming
        }
        let path = configPath
        runInBackground { submit(.applyConfiguration(Self.readConfiguration(path), respond: reply)) }
        return .streaming
    }

    /// The configuration file (or the built-in one), read and validated.
    public static func readConfiguration(_ path: String?) -> Result<KarstConfiguration, ConfigError> {
        Result { () throws(ConfigError) -> KarstConfiguration in
            try path.map { p throws(ConfigError) in try KarstConfiguration.load(path: p) } ?? KarstConfiguration.builtIn()
        }
    }

    /// Swaps in a configuration read elsewhere, or reports why it could not be read.
    func applyParsed(_ parsed: Result<KarstConfiguration, ConfigError>, now: Instant) -> Result<Int, VarlinkError> {
        switch parsed {
        case .success(let next): return apply(next, now: now)
        case .failure(let error):
            logger.error("reload failed; keeping configuration generation \(generation): \(error)")
            lastReloadFailure = error.issues.first?.description ?? "invalid configuration"
            onReload?(.failure(error))
            return .failure(AdminInterface.InvalidConfig(reason: error.description).varlinkError)
        }
    }

    /// Swaps in an already validated configuration.
    func apply(_ next: KarstConfiguration, now: Instant) -> Result<Int, VarlinkError> {
        do {
            let report = try state.reconfigure(to: next.topology, now: now)
            if next.agents != configuration.agents {
                logger.warning("[agents] changed: the remote agents' listener keeps its address and certificates until karstd restarts")
            }
            configuration = next
            generation += 1
            metaChanged = true
            extraChangedJobs += report.heldUnschedulable + report.runningOutsidePools
            for id in report.heldUnschedulable {
                logger.warning("\(id) held by reload: no data centre in the new configuration can hold it",
                               metadata: ["job_id": "\(id)", "event": "held"])
            }
            for id in report.runningOutsidePools {
                logger.notice("\(id) keeps running outside the reconfigured pools until it ends", metadata: ["job_id": "\(id)"])
            }
            logger.notice("configuration generation \(generation) in force (\(configPath ?? "built-in"))")
            lastReloadFailure = nil
            onReload?(.success(generation))
            return .success(generation)
        } catch {
            let reason = "the new configuration would orphan work: \(error)"
            logger.error("reload refused; keeping configuration generation \(generation): \(reason)")
            lastReloadFailure = reason
            onReload?(.failure(ConfigError(source: configPath ?? "built-in", issues: [ConfigIssue(path: "", message: reason)])))
            return .failure(AdminInterface.InvalidConfig(reason: reason).varlinkError)
        }
    }
}
