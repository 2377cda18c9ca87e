import KarstCore
import KarstProtocol

extension EngineCore {
    /// Routes one call to its handler. Parameter errors, permissions and core errors all end as a
    /// named Varlink error.
    func handle(_ r: EngineRequest, now: Instant, events: inout [Event]) -> Outcome {
        var params = ParameterReader(r.call.parameters)
        do throws(VarlinkError) {
            let outcome: Outcome
            switch r.call.method {
            case "io.karst.Scheduler.Submit":
                let decoded: SubmitParameters
                switch r.submitParameters {
                case .success(let d)?: decoded = d
                case .failure(let e)?: throw e
                case nil: decoded = try SubmitParameters(r.call.parameters)
                }
                outcome = try submit(decoded, r.caller, now, &events)
            case "io.karst.Scheduler.SubmitBatch": outcome = try submitBatch(&params, r.caller, now, &events)
            case "io.karst.Scheduler.Get": outcome = try get(&params)
            case "io.karst.Scheduler.List": outcome = try list(&params)
            case "io.karst.Scheduler.Cancel": outcome = try transition(&params, r.caller, now, &events) { s, id, t throws(SchedulerError) in try s.cancel(id, now: t) }
            case "io.karst.Scheduler.Hold": outcome = try transition(&params, r.caller, now, &events) { s, id, t throws(SchedulerError) in try s.hold(id, now: t) }
            case "io.karst.Scheduler.Release": outcome = try transition(&params, r.caller, now, &events) { s, id, t throws(SchedulerError) in try s.release(id, now: t) }
            case "io.karst.Scheduler.Complete": outcome = try complete(&params, r.caller, now, &events)
            case "io.karst.Scheduler.Watch": outcome = try watch(&params, r)
            case "io.karst.Admin.Topology": outcome = try topology(&params)
            case "io.karst.Admin.Drain": outcome = try datacenterOp(&params, r.caller) { s, dc, _ throws(SchedulerError) in (try s.drain(dc), []) }
            case "io.karst.Admin.Resume": outcome = try datacenterOp(&params, r.caller) { s, dc, _ throws(SchedulerError) in (try s.resume(dc), []) }
            case "io.karst.Admin.SetOffline":
                outcome = try datacenterOp(&params, r.caller, now: now, events: &events) { s, dc, t throws(SchedulerError) in try s.setOffline(dc, now: t) }
            case "io.karst.Admin.Stats": outcome = try stats(&params)
            case "io.karst.Admin.Metrics": outcome = try metricsText(&params)
            case "io.karst.Admin.Reload": outcome = try reloadCall(&params, r, now)
            case "io.karst.Admin.Backup": outcome = try backup(&params, r)
            default:
                throw Dispatcher.unknown(r.call)
            }
            return outcome
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

    func jobID(_ params: inout ParameterReader, _ key: String = "id") throws(VarlinkError) -> JobID {
        let text = try params.requiredString(key)
        try CallBounds.checkName(text, key)
        guard let id = JobID(text) else {
            throw VarlinkError("io.karst.Scheduler.NoSuchJob", ["id": .string(text)])
        }
        return id
    }

    /// A reply `{key: job}` rendered from the state at answer time.
    /// Replies with the job as it is once the batch is applied; `withPosition` adds its queue
    /// position (a walk of the queue: for `Get`, not for the submit hot path).
    func jobReply(_ id: JobID, key: String = "job", withPosition: Bool = false) -> Outcome {
        .job(id, key: key, withPosition: withPosition)
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

/// Calls answered without the engine (no state needed), and the routing of unknown names.
public enum Dispatcher {
    public static let vendor = "Karst"
    public static let product = "karstd"
    public static let url = "https://karst.invalid/"

    /// The interfaces whose methods the engine answers.
    static let engineInterfaces: [String] = EmbeddedInterfaces.descriptions.keys.sorted()

    /// The interfaces served, in `GetInfo` order.
    public static var interfaces: [String] { ["org.varlink.service"] + engineInterfaces }

    /// The reply for calls that need no state, or nil when the engine must handle the call.
    public static func answerLocally(_ call: VarlinkCall, version: String) -> [UInt8]? {
        do throws(VarlinkError) {
            switch call.method {
            case "org.varlink.service.GetInfo":
                let params = ParameterReader(call.parameters)
                try params.finish()
                return VarlinkReply.frame { w in
                    w.key("vendor"); w.string(vendor)
                    w.key("product"); w.string(product)
                    w.key("version"); w.string(version)
                    w.key("url"); w.string(url)
                    w.key("interfaces"); w.strings(interfaces)
                }
            case "org.varlink.service.GetInterfaceDescription":
                var params = ParameterReader(call.parameters)
                let name = try params.requiredString("interface")
                try params.finish()
                guard let text = name == "org.varlink.service" ? serviceDescription : EmbeddedInterfaces.descriptions[name]
                else { throw VarlinkError.interfaceNotFound(name) }
                return VarlinkReply.frame { w in w.key("description"); w.string(text) }
            case "io.karst.Protocol.Ping":
                var params = ParameterReader(call.parameters)
                let text = try params.string("text") ?? "pong"
                try params.finish()
                return VarlinkReply.frame { w in w.key("text"); w.string(text) }
            default:
                // Every call comes through here: compare the interface in place (no new string,
                // no hashing) against the few served by the engine.
                let method = call.method
                let interface = method[..<(method.lastIndex(of: ".") ?? method.startIndex)]
                guard engineInterfaces.contains(where: { $0 == interface }) else { throw unknown(call) }
                return nil
            }
        } catch {
            return VarlinkReply.frame(error: error)
        }
    }

    /// `InterfaceNotFound` or `MethodNotFound`, whichever applies.
    static func unknown(_ call: VarlinkCall) -> VarlinkError {
        if call.interface != "org.varlink.service" && EmbeddedInterfaces.descriptions[call.interface] == nil {
            return .interfaceNotFound(call.interface)
        }
        return .methodNotFound(call.method)
    }

    /// The standard description of `org.varlink.service`.
    public static let serviceDescription = """
        # The Varlink Service Interface is provided by every varlink service. It
        # describes the service and the interfaces it implements.
        interface org.varlink.service

        # Get a list of all the interfaces a service provides and information
        # about the implementation.
        method GetInfo() -> (
          vendor: string,
          product: string,
          version: string,
          url: string,
          interfaces: []string
        )

        # Get the description of an interface that is implemented by this service.
        method GetInterfaceDescription(interface: string) -> (description: string)

        # The requested interface was not found.
        error InterfaceNotFound (interface: string)

        # The requested method was not found
        error MethodNotFound (method: string)

        # The interface defines the requested method, but the service does not
        # implement it.
        error MethodNotImplemented (method: string)

        # One of the passed parameters is invalid.
        error InvalidParameter (parameter: string)

        # Client is denied access
        error PermissionDenied ()

        # Method is expected to be called with 'more' set to true, but wasn't
        error ExpectedMore ()
        """
}
