import ArgumentParser
import Foundation
import KarstProtocol

struct Submit: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Submit a job (from flags, or a JSON job file).",
        discussion: """
            A job without a command is completed by the modelled executor after its --duration. \
            A command, given after `--` (the program first, then its arguments, passed as they are \
            with no shell in between), runs on a site agent of a data centre whose executor is \
            "agents", with --env added to the agent's environment, in --workdir (an absolute path \
            on that site; the agent's run directory when not given); --duration is then an estimate.

            Examples:
              karstctl submit --origin gba --class online --cpu 4 --memory 16 \\
                  --duration 30m
              karstctl submit --origin yrd --class batch --cpu 96 --memory 768 \\
                  --accelerators 8 --accelerator-model ascend-910b --replicas 2 \\
                  --duration 4h
              karstctl submit --file job.json --dry-run
              karstctl submit --origin local --class batch --cpu 1 --memory 1 \\
                  -- /bin/sh -c 'echo hi'
              karstctl submit --origin local --class batch --cpu 1 --memory 1 \\
                  --env GREETING=hi --workdir /srv/jobs \\
                  -- /bin/sh -c 'echo "$GREETING" > out.txt'
            """)

    @OptionGroup var connection: Connection
    @OptionGroup var output: OutputOptions

    @Option(help: ArgumentHelp("A JobSpec as JSON (io.karst.Scheduler.JobSpec); flags override its fields.", valueName: "FILE"))
    var file: String?
    @Option(help: "Job name.") var name: String?
    @Option(help: "Tenant (admins only; default: you).") var tenant: String?
    @Option(help: "Demand region: bth, yrd, gba, cc, local.") var origin: String?
    @Option(name: .customLong("class"), help: "Priority class: critical, online, batch, best-effort.") var priorityClass: String?
    @Option(help: "Priority within the class (higher first).") var priority: Int?
    @Option(help: "Cores per replica.") var cpu: Double?
    @Option(help: "Memory per replica, GiB.") var memory: Double?
    @Option(help: "Accelerators per replica.") var accelerators: Int?
    @Option(help: "Required accelerator model (e.g. ascend-910b).") var acceleratorModel: String?
    @Option(help: "Gang size: all replicas start together in one data centre.") var replicas: Int?
    @Option(help: ArgumentHelp("Expected run time: 90, 90s, 15m, 4h.", valueName: "DURATION")) var duration: String?
    @Option(help: "Latency budget in ms from the origin region.") var maxLatency: Int?
    @Option(name: .customLong("datacenter"), help: "Allowed data centre (repeat for several).") var datacenters: [String] = []
    @Flag(inversion: .prefixedNo, help: "Whether the job may be preempted (default: the class's).") var preemptible: Bool?
    @Option(help: "Deadline (RFC 3339).") var deadline: String?
    @Option(help: "Do not start before (RFC 3339).") var notBefore: String?
    @Option(help: "Flexibility window end (RFC 3339).") var notAfter: String?
    @Option(name: .customLong("after"), help: ArgumentHelp("Start only after this job succeeded (repeat for several).", valueName: "JOB-ID"))
    var dependsOn: [String] = []
    @Option(help: "Failed runs retried before the job fails.") var maxRetries: Int?
    @Option(name: .customLong("label"), help: ArgumentHelp("A label (repeat for several).", valueName: "KEY=VALUE")) var labels: [String] = []
    @Option(name: .customLong("env"),
            help: ArgumentHelp("An environment variable of the command (repeat for several).", valueName: "KEY=VALUE"))
    var environment: [String] = []
    @Option(name: .customLong("workdir"),
            help: ArgumentHelp("Where the command runs: an absolute path on the site.", valueName: "DIR"))
    var workingDirectory: String?
    @Flag(help: "Ask where and when the job would start; store nothing.") var dryRun = false
    @Argument(parsing: .postTerminator,
              help: ArgumentHelp("The command to run on a site agent, after `--`: the program, then its arguments.",
                                 valueName: "COMMAND"))
    var command: [String] = []

    func run() throws {
        try karstctl.run {
            let spec = try buildSpec()
            let reply = try connection.call(SchedulerInterface.Submit.name,
                                            SchedulerInterface.Submit.Parameters(job: spec, dryRun: dryRun).jsonObject)
            if output.json { return printJSON(reply) }
            let job = try decode(reply, "job", WireJob.self)
            if dryRun {
                print(describeDryRun(job))
            } else {
                if let dc = job.datacenter {
                    print("\(job.id) \(job.state) \(dc)/\(job.pool ?? "?")")
                } else {
                    print("\(job.id) \(job.state)" + (job.pendingReason.map { ": \($0)" } ?? ""))
                }
            }
        }
    }

    /// The spec: the file's (read by the generated `WireJobSpec`, so a misspelt field is named),
    /// then each flag given over it.
    private func buildSpec() throws -> WireJobSpec {
        var spec = WireJobSpec(origin: "", priorityClass: "", resources: WireResources(cpu: .nan, memoryGiB: .nan))
        if let file {
            guard let data = FileManager.default.contents(atPath: file) else { throw ValidationError("cannot read \(file)") }
            guard case .object(var o) = try JSONParser.parse(Array(data)) else {
                throw ValidationError("\(file) must hold a JSON object (a JobSpec)")
            }
            if case .object(let inner)? = o["job"] { o = inner }
            // What the flags give may be missing from the file: a placeholder until they do.
            if o["origin"] == nil, origin != nil { o["origin"] = .string("") }
            if o["priorityClass"] == nil, priorityClass != nil { o["priorityClass"] = .string("") }
            if o["resources"] == nil, cpu != nil, memory != nil { o["resources"] = spec.resources.json }
            do { spec = try WireJobSpec(object: o, path: WirePath("job"), strict: true) } catch {
                throw ValidationError("\(file): \(error)")
            }
        } else {
            guard origin != nil else { throw ValidationError("--origin is required (or give it in --file)") }
            guard priorityClass != nil else { throw ValidationError("--class is required (or give it in --file)") }
            guard cpu != nil, memory != nil else { throw ValidationError("--cpu and --memory are required (or resources in --file)") }
        }
        if let name { spec.name = name }
        if let tenant { spec.tenant = tenant }
        if let origin { spec.origin = origin }
        if let priorityClass { spec.priorityClass = priorityClass }
        if let priority { spec.priority = priority }
        if let cpu { spec.resources.cpu = cpu }
        if let memory { spec.resources.memoryGiB = memory }
        if let accelerators { spec.resources.accelerators = accelerators }
        if let acceleratorModel { spec.resources.acceleratorModel = acceleratorModel }
        if let replicas { spec.replicas = replicas }
        if let duration {
            guard let s = parseDuration(duration) else { throw ValidationError("--duration: expected e.g. 90, 90s, 15m or 4h") }
            spec.durationSeconds = s
        }
        if let maxLatency { spec.maxLatencyMs = maxLatency }
        if !datacenters.isEmpty { spec.datacenters = datacenters }
        if let preemptible { spec.preemptible = preemptible }
        if let deadline { spec.deadline = deadline }
        if let notBefore { spec.notBefore = notBefore }
        if let notAfter { spec.notAfter = notAfter }
        if !dependsOn.isEmpty { spec.dependsOn = dependsOn }
        if let maxRetries { spec.maxRetries = maxRetries }
        for kv in labels {
            guard let eq = kv.firstIndex(of: "=") else { throw ValidationError("--label must be KEY=VALUE") }
            spec.labels = (spec.labels ?? [:]).merging([String(kv[..<eq]): String(kv[kv.index(after: eq)...])]) { $1 }
        }
        // The first `=` ends the name: a value may hold more of them (`--env OPTS=a=b`).
        for kv in environment {
            guard let eq = kv.firstIndex(of: "="), eq != kv.startIndex else {
                throw ValidationError("--env must be KEY=VALUE with a non-empty KEY, not '\(kv)'")
            }
            spec.environment = (spec.environment ?? [:]).merging([String(kv[..<eq]): String(kv[kv.index(after: eq)...])]) { $1 }
        }
        if let workingDirectory { spec.workingDirectory = workingDirectory }
        if !command.isEmpty { spec.command = command }
        return spec
    }
}

/// `90`, `90s`, `15m`, `4h`, `2d` → seconds.
func parseDuration(_ text: String) -> Double? {
    let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
    if let last = text.last, let unit = units[last] { return Double(text.dropLast()).map { $0 * unit } }
    return Double(text)
}

struct Get: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show one job: state, placement, why it waits.")
    @OptionGroup var connection: Connection
    @OptionGroup var output: OutputOptions
    @Argument(help: "Job id (job-N).") var id: String

    func run() throws {
        try karstctl.run {
            let reply = try connection.call("io.karst.Scheduler.Get", ["id": .string(id)])
            if output.json { return printJSON(reply) }
            print(describe(try decode(reply, "job", WireJob.self)))
        }
    }
}

struct List: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List jobs, oldest first.")
    @OptionGroup var connection: Connection
    @OptionGroup var output: OutputOptions
    @Option(help: "Only jobs in this state (pending, held, running, succeeded, failed, cancelled).") var state: String?
    @Option(help: "Only this tenant's jobs.") var tenant: String?
    @Option(help: "Only jobs placed in this data centre.") var datacenter: String?
    @Option(help: "At most this many (default 1000).") var limit: Int?

    func run() throws {
        try karstctl.run {
            var p: JSONObject = [:]
            if let state { p["state"] = .string(state) }
            if let tenant { p["tenant"] = .string(tenant) }
            if let datacenter { p["datacenter"] = .string(datacenter) }
            if let limit { p["limit"] = .number(Double(limit)) }
            let reply = try connection.call("io.karst.Scheduler.List", p)
            if output.json { return printJSON(reply) }
            let jobs = try decodeList(reply, "jobs", WireJob.self)
            var rows = [["ID", "TENANT", "CLASS", "STATE", "DC/POOL", "AGE", "POS", "ETA", "REASON"]]
            for j in jobs {
                rows.append([j.id, j.spec.tenant ?? "-", j.spec.priorityClass, j.state, placement(j),
                             age(since: j.submittedAt), j.queuePosition.map(String.init) ?? "",
                             j.estimatedStart.map { untilText($0) } ?? "", j.pendingReason ?? ""])
            }
            print(table(rows))
        }
    }
}

/// Cancel, hold and release share their shape.
protocol JobAction: ParsableCommand {
    static var method: String { get }
    var connection: Connection { get }
    var output: OutputOptions { get }
    var id: String { get }
}

extension JobAction {
    func run() throws {
        try karstctl.run {
            let reply = try connection.call(Self.method, ["id": .string(id)])
            if output.json { return printJSON(reply) }
            let job = try decode(reply, "job", WireJob.self)
            print("\(job.id) \(job.state)")
        }
    }
}

struct Cancel: JobAction {
    static let configuration = CommandConfiguration(abstract: "Cancel a pending, held or running job.")
    static let method = "io.karst.Scheduler.Cancel"
    @OptionGroup var connection: Connection
    @OptionGroup var output: OutputOptions
    @Argument(help: "Job id.") var id: String
}

struct Hold: JobAction {
    static let configuration = CommandConfiguration(abstract: "Keep a pending job from being scheduled.")
    static let method = "io.karst.Scheduler.Hold"
    @OptionGroup var connection: Connection
    @OptionGroup var output: OutputOptions
    @Argument(help: "Job id.") var id: String
}

struct Release: JobAction {
    static let configuration = CommandConfiguration(abstract: "Let a held job be scheduled again.")
    static let method = "io.karst.Scheduler.Release"
    @OptionGroup var connection: Connection
    @OptionGroup var output: OutputOptions
    @Argument(help: "Job id.") var id: String
}

struct Complete: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Report the end of a running job (executors).")
    @OptionGroup var connection: Connection
    @OptionGroup var output: OutputOptions
    @Argument(help: "Job id.") var id: String
    @Option(help: "succeeded or failed.") var outcome: String = "succeeded"
    @Option(help: "A message for the record.") var message: String?

    func run() throws {
        try karstctl.run {
            var p: JSONObject = ["id": .string(id), "outcome": .string(outcome)]
            if let message { p["message"] = .string(message) }
            let reply = try connection.call("io.karst.Scheduler.Complete", p)
            if output.json { return printJSON(reply) }
            let job = try decode(reply, "job", WireJob.self)
            print("\(job.id) \(job.state)")
        }
    }
}

struct Watch: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Follow job events as they happen (Ctrl-C to stop).")
    @OptionGroup var connection: Connection
    @OptionGroup var output: OutputOptions
    @Option(help: "Only this tenant's jobs.") var tenant: String?
    @Argument(help: "Only these jobs.") var ids: [String] = []

    func run() throws {
        try karstctl.run {
            var p: JSONObject = [:]
            if !ids.isEmpty { p["ids"] = .array(ids.map(JSONValue.string)) }
            if let tenant { p["tenant"] = .string(tenant) }
            let c = try connection.open()
            defer { c.close() }
            try Failure.map { try c.stream("io.karst.Scheduler.Watch", p) }
            while true {
                let reply = try Failure.map { try c.receive() }
                if let e = reply.error { throw Failure.refused(e) }
                if output.json {
                    print(String(decoding: JSONValue.object(reply.parameters).encoded, as: UTF8.self))
                } else {
                    let e = try decode(reply.parameters, "event", WireEvent.self)
                    var line = "\(e.at)  \(e.kind.padding(toLength: 9, withPad: " ", startingAt: 0)) \(e.job.id)  "
                        + "\(e.job.spec.priorityClass) from \(e.job.spec.origin)"
                    if let dc = e.job.datacenter { line += " → \(dc)/\(e.job.pool ?? "?")" }
                    if let r = e.job.pendingReason, e.kind != "placed" { line += "  (\(r))" }
                    print(line)
                }
                fflush(nil)
                if !reply.continues { return }
            }
        }
    }
}
