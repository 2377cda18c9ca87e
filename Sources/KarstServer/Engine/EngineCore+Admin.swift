import Foundation
import KarstConfig
import KarstCore
import KarstProtocol

/// `io.karst.Admin` handlers and reload.
extension EngineCore {
    func topology(_ p: inout ParameterReader) throws(VarlinkError) -> Outcome {
        try p.finish()
        return .reply { state, core in
            VarlinkReply.frame { w in
                w.key("datacenters")
                w.beginArray()
                for u in state.usage { WireMapping.datacenter(u, in: state.topology).write(to: &w) }
                w.endArray()
            }
        }
    }

    func datacenterOp(_ p: inout ParameterReader, _ c: Caller, now: Instant = Instant(microseconds: 0),
                      events: inout [Event],
                      _ op: (inout SchedulerState, String, Instant) throws(SchedulerError) -> (DatacenterUsage, [Event]))
        throws(VarlinkError) -> Outcome
    {
        let dc = try p.requiredString("datacenter")
        try p.finish()
        try CallBounds.checkName(dc, "datacenter")
        try requireAdmin(c, "datacenter operation on \(dc)")
        let (_, caused) = try core { () throws(SchedulerError) in try op(&state, dc, now) }
        events += caused
        metaChanged = true
        logger.notice("datacenter \(dc) is now \(state.usage.first { $0.id == dc }?.state.rawValue ?? "?") (by \(c))",
                      metadata: ["datacenter": "\(dc)"])
        return .reply { state, core in
            VarlinkReply.frame { w in
                w.key("datacenter")
                if let u = state.usage.first(where: { $0.id == dc }) {
                    WireMapping.datacenter(u, in: state.topology).write(to: &w)
                }
            }
        }
    }

    func datacenterOp(_ p: inout ParameterReader, _ c: Caller,
                      _ op: (inout SchedulerState, String, Instant) throws(SchedulerError) -> (DatacenterUsage, [Event]))
        throws(VarlinkError) -> Outcome
    {
        var none: [Event] = []
        return try datacenterOp(&p, c, events: &none, op)
    }

    func stats(_ p: inout ParameterReader) throws(VarlinkError) -> Outcome {
        try p.finish()
        return .reply { state, core in
            let s = copy state
            return VarlinkReply.frame { w in
                w.key("pending")
                w.beginArray()
                let byClass = s.pendingByClass
                for cls in s.topology.classes {
                    w.beginObject()
                    w.key("class"); w.string(cls.id)
                    w.key("pending"); w.number(byClass[cls.id] ?? 0)
                    w.endObject()
                }
                w.endArray()
                w.key("running"); w.number(s.runningTotal)
                w.key("placementsPerSecond"); w.number((core.placementsPerSecond * 10).rounded() / 10)
                w.key("tenants")
                w.beginArray()
                for t in s.tenantShares {
                    w.beginObject()
                    w.key("tenant"); w.string(t.tenant)
                    w.key("weight"); w.number(t.weight)
                    w.key("dominantShare"); w.number((t.dominantShare * 1e6).rounded() / 1e6)
                    w.key("usage"); WireMapping.capacity(t.usage).write(to: &w)
                    w.endObject()
                }
                w.endArray()
                w.key("generation"); w.number(core.generation)
                w.key("watchers"); w.number(core.watchers.count)
            }
        }
    }

    /// Copies the state with SQLite's online backup from a read snapshot, on its own thread, and
    /// answers when the copy is complete: the engine keeps serving meanwhile.
    func backup(_ p: inout ParameterReader, _ r: EngineRequest) throws(VarlinkError) -> Outcome {
        let path = try p.requiredString("path")
        try p.finish()
        try requireAdmin(r.caller, "Backup")
        try CallBounds.check(path.utf8.count, atMost: CallBounds.maxPathBytes, "path", "bytes")
        guard path.hasPrefix("/") else { throw VarlinkError.outOfRange("path", "must be an absolute path") }
        guard !path.utf8.contains(0) else { throw VarlinkError.outOfRange("path", "must not contain a NUL byte") }
        guard !FileManager.default.fileExists(atPath: path) else {
            throw VarlinkError.outOfRange("path", "must not exist yet: a backup never overwrites")
        }
        let parts = path.split(separator: "/", omittingEmptySubsequences: true)
        if let long = parts.first(where: { $0.utf8.count > CallBounds.maxNameBytes }) {
            throw VarlinkError.outOfRange("path", "each name in it at most \(CallBounds.maxNameBytes) bytes, not \(long.utf8.count)")
        }
        var isDirectory: ObjCBool = false
        let directory = "/" + parts.dropLast().joined(separator: "/")
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw VarlinkError.outOfRange("path", "its directory \(directory) must exist")
        }
        guard let store else { throw VarlinkError.methodNotImplemented("io.karst.Admin.Backup (the daemon runs without state)") }

        let logger = self.logger
        let request = r
        Thread.detachNewThread {
            let frame: [UInt8]
            do {
                let jobs = try store.backup(to: path)
                logger.notice("backup of \(jobs) jobs written to \(path)")
                frame = VarlinkReply.frame { w in w.key("path"); w.string(path); w.key("jobs"); w.number(jobs) }
            } catch {
                // The copy failed (the target's disk, its permissions): the state store is fine.
                logger.warning("backup to \(path) failed: \(error)")
                frame = VarlinkReply.frame(error: VarlinkError("io.karst.Admin.BackupFailed",
                                                              ["path": .string(path), "reason": .string("\(error)")]))
            }
            request.answer(frame)
        }
        return .streaming
    }

    func metricsText(_ p: inout ParameterReader) throws(VarlinkError) -> Outcome {
        try p.finish()
        return .reply { state, core in VarlinkReply.frame { w in w.key("text"); w.string(core.metrics.render()) } }
    }

    /// Reads and validates the file on a thread of its own (a slow disk or a huge file must not
    /// stall the engine, or the watchdog), then swaps it in on the engine and answers after the
    /// batch that applied it is committed.
    func reloadCall(_ p: inout ParameterReader, _ r: EngineRequest, _ now: Instant) throws(VarlinkError) -> Outcome {
        try p.finish()
        try requireAdmin(r.caller, "Reload")
        onReloadStart?()
        let reply: @Sendable (Result<Int, VarlinkError>) -> Void = { result in
            let frame: [UInt8]
            switch result {
            case .success(let g): frame = VarlinkReply.frame { w in w.key("generation"); w.number(g) }
            case .failure(let e): frame = VarlinkReply.frame(error: e)
            }
            r.answer(frame)
        }
        guard let submit = submitToSelf else {
            // No engine thread (tests drive the core directly): read here.
            deferredReplies.append((reply, applyParsed(Self.readConfiguration(configPath), now: now)))
            return .streaming
        }
        let path = configPath
        Thread.detachNewThread {
            submit(.applyConfiguration(Self.readConfiguration(path), respond: reply))
        }
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
            return .failure(VarlinkError("io.karst.Admin.InvalidConfig", ["reason": .string(error.description)]))
        }
    }

    /// Swaps in an already validated configuration.
    func apply(_ next: KarstConfiguration, now: Instant) -> Result<Int, VarlinkError> {
        do {
            let report = try state.reconfigure(to: next.topology, now: now)
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
            return .failure(VarlinkError("io.karst.Admin.InvalidConfig", ["reason": .string(reason)]))
        }
    }
}
