import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import KarstProtocol

struct Submit: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit",
        abstract: "Submit a job (from flags, or a JSON job file), or many in one call (--array, a file of specs).",
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
    @Option(help: ArgumentHelp(
        "Submit one job per index: N (0 to N-1), A-B, or a list such as 0-9,20,30-39. Names get -INDEX; "
            + "a command gets KARST_ARRAY_INDEX and KARST_ARRAY_COUNT in its environment.",
        valueName: "INDICES"))
    var array: String?
    @Argument(parsing: .postTerminator,
              help: ArgumentHelp("The command to run on a site agent, after `--`: the program, then its arguments.",
                                 valueName: "COMMAND"))
    var command: [String] = []


    /// The flags as plain values (what the fast path fills without ArgumentParser too).
    var flags: SubmitFlags {
        SubmitFlags(socket: connection.socket, json: output.json, file: file, name: name, tenant: tenant, origin: origin,
                    priorityClass: priorityClass, priority: priority, cpu: cpu, memory: memory,
                    accelerators: accelerators, acceleratorModel: acceleratorModel, replicas: replicas,
                    duration: duration, maxLatency: maxLatency, datacenters: datacenters, preemptible: preemptible,
                    deadline: deadline, notBefore: notBefore, notAfter: notAfter, dependsOn: dependsOn,
                    maxRetries: maxRetries, labels: labels, environment: environment,
                    workingDirectory: workingDirectory, dryRun: dryRun, array: array, command: command)
    }

    func run() throws { try flags.run() }
}

struct Get: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "get", abstract: "Show one job: state, placement, why it waits.")
    @OptionGroup var connection: Connection
    @OptionGroup var output: OutputOptions
    @Argument(help: "Job id (job-N).") var id: String

    func run() throws {
        try KarstCLI.run {
            let reply = try connection.call("io.karst.Scheduler.Get", ["id": .string(id)])
            if output.json { return printJSON(reply) }
            print(describe(try decode(reply, "job", WireJob.self)))
        }
    }
}

struct List: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List jobs, oldest first, a page at a time.",
        discussion: """
            Shows the first --limit jobs (1000) and says how many more match; --after JOB-ID starts \
            after that job (the last of the previous page), --all pages through every one. \
            -o wide adds the spec's columns; -o jsonl writes one job per line (compact, as it arrives).
            """)
    @OptionGroup var connection: Connection
    @OptionGroup var output: OutputOptions
    @Option(help: "Only jobs in this state (pending, held, running, succeeded, failed, cancelled).") var state: String?
    @Option(help: "Only this tenant's jobs.") var tenant: String?
    @Option(help: "Only jobs placed in this data centre.") var datacenter: String?
    @Option(help: "Jobs per page (default 1000; 10000 with --all; at most 100000).") var limit: Int?
    @Option(help: ArgumentHelp("Only jobs after this one (the last id of the previous page).", valueName: "JOB-ID"))
    var after: String?
    @Flag(help: "Every matching job, page after page.") var all = false
    @Option(name: [.customShort("o"), .customLong("output")], help: ArgumentHelp("table (default), wide, json or jsonl.", valueName: "FORMAT"))
    var format: String?

    var flags: ListFlags {
        ListFlags(socket: connection.socket, json: output.json, state: state, tenant: tenant, datacenter: datacenter,
                  limit: limit, after: after, all: all, format: format)
    }

    func run() throws { try flags.run() }
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
        try KarstCLI.run {
            let reply = try connection.call(Self.method, ["id": .string(id)])
            if output.json { return printJSON(reply) }
            let job = try decode(reply, "job", WireJob.self)
            print("\(job.id) \(job.state)")
        }
    }
}

struct Cancel: JobAction {
    static let configuration = CommandConfiguration(commandName: "cancel", abstract: "Cancel a pending, held or running job.")
    static let method = "io.karst.Scheduler.Cancel"
    @OptionGroup var connection: Connection
    @OptionGroup var output: OutputOptions
    @Argument(help: "Job id.") var id: String
}

struct Hold: JobAction {
    static let configuration = CommandConfiguration(commandName: "hold", abstract: "Keep a pending job from being scheduled.")
    static let method = "io.karst.Scheduler.Hold"
    @OptionGroup var connection: Connection
    @OptionGroup var output: OutputOptions
    @Argument(help: "Job id.") var id: String
}

struct Release: JobAction {
    static let configuration = CommandConfiguration(commandName: "release", abstract: "Let a held job be scheduled again.")
    static let method = "io.karst.Scheduler.Release"
    @OptionGroup var connection: Connection
    @OptionGroup var output: OutputOptions
    @Argument(help: "Job id.") var id: String
}

struct Complete: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "complete", abstract: "Report the end of a running job (executors).")
    @OptionGroup var connection: Connection
    @OptionGroup var output: OutputOptions
    @Argument(help: "Job id.") var id: String
    @Option(help: "succeeded or failed.") var outcome: String = "succeeded"
    @Option(help: "A message for the record.") var message: String?

    func run() throws {
        try KarstCLI.run {
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
    static let configuration = CommandConfiguration(commandName: "watch", abstract: "Follow job events as they happen (Ctrl-C to stop).")
    @OptionGroup var connection: Connection
    @OptionGroup var output: OutputOptions
    @Option(help: "Only this tenant's jobs.") var tenant: String?
    @Argument(help: "Only these jobs.") var ids: [String] = []

    func run() throws {
        try KarstCLI.run {
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
                    var line = "\(e.at)  \(padRight(e.kind, 9)) \(e.job.id)  "
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
