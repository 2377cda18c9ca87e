/// What a client asks for: the protocol's `JobSpec`, with times already parsed.
///
/// Field meanings follow the control protocol contract (`docs/PROTOCOL.md`).
public struct JobSpec: Hashable, Sendable {
    public var name: String?
    /// The tenant the job is charged to; the daemon fills in the caller's user name when absent.
    public var tenant: String?
    /// Region id the workload comes from (`bth`, `yrd`, `gba`, `cc`, `local`).
    public var origin: String
    public var priorityClass: String
    /// Priority within the class (higher first); default 0.
    public var priority: Int
    /// Per replica.
    public var resources: ResourceRequest
    /// Gang size: all replicas are placed together in one data centre, or none is.
    public var replicas: Int
    /// Expected run time; the modelled executor completes the job after it.
    public var durationSeconds: Double?
    /// Latency budget (RTT from `origin`); the class default when nil.
    public var maxLatencyMs: Double?
    /// Residency: the data centres this job may run in; anywhere when nil.
    public var datacenters: [String]?
    /// Whether the job may be preempted; the class default when nil.
    public var preemptible: Bool?
    public var deadline: Instant?
    public var notBefore: Instant?
    public var notAfter: Instant?
    public var dependsOn: [JobID]
    /// How many times a failed run is retried before the job fails.
    public var maxRetries: Int
    public var labels: [String: String]
    /// What to run (argv; the first entry is the program): set, the job runs on a site agent of
    /// a data centre whose executor is `agents`; empty, the modelled executor completes it after
    /// `durationSeconds`.
    public var command: [String] {
        get { execution?.command ?? [] }
        set { setExecution(command: newValue) }
    }
    /// The command's environment (added to the agent's own minimal one).
    public var environment: [String: String] {
        get { execution?.environment ?? [:] }
        set { setExecution(environment: newValue) }
    }
    /// Where the command runs; the agent's run directory when nil.
    public var workingDirectory: String? {
        get { execution?.workingDirectory }
        set { setExecution(workingDirectory: .some(newValue)) }
    }
    /// The three above, boxed: most jobs (every modelled one) have none, and a job table holds a
    /// million specs, so they cost one reference, not three collections, per spec.
    private var execution: Execution?

    /// Whether the job runs a command, on a site agent.
    public var runsCommand: Bool { !command.isEmpty }

    public init(name: String? = nil, tenant: String? = nil, origin: String, priorityClass: String,
                priority: Int = 0, resources: ResourceRequest, replicas: Int = 1,
                durationSeconds: Double? = nil, maxLatencyMs: Double? = nil, datacenters: [String]? = nil,
                preemptible: Bool? = nil, deadline: Instant? = nil, notBefore: Instant? = nil,
                notAfter: Instant? = nil, dependsOn: [JobID] = [], maxRetries: Int = 0,
                labels: [String: String] = [:], command: [String] = [], environment: [String: String] = [:],
                workingDirectory: String? = nil) {
        self.name = name
        self.tenant = tenant
        self.origin = origin
        self.priorityClass = priorityClass
        self.priority = priority
        self.resources = resources
        self.replicas = replicas
        self.durationSeconds = durationSeconds
        self.maxLatencyMs = maxLatencyMs
        self.datacenters = datacenters
        self.preemptible = preemptible
        self.deadline = deadline
        self.notBefore = notBefore
        self.notAfter = notAfter
        self.dependsOn = dependsOn
        self.maxRetries = maxRetries
        self.labels = labels
        if !command.isEmpty || !environment.isEmpty || workingDirectory != nil {
            execution = Execution(command: command, environment: environment, workingDirectory: workingDirectory)
        }
    }
}

/// The resources one replica asks for, in the protocol's units.
public struct ResourceRequest: Hashable, Sendable {
    public var cpu: Double
    public var memoryGiB: Double
    public var accelerators: Int
    /// Required accelerator model; any model when nil (and `accelerators` > 0).
    public var acceleratorModel: String?

    public init(cpu: Double, memoryGiB: Double, accelerators: Int = 0, acceleratorModel: String? = nil) {
        self.cpu = cpu
        self.memoryGiB = memoryGiB
        self.accelerators = accelerators
        self.acceleratorModel = acceleratorModel
    }

    /// The exact integer vector for one replica.
    public var vector: Resources { Resources(cpu: cpu, memoryGiB: memoryGiB, accelerators: accelerators) }
}

extension JobSpec {
    /// A spec's command, environment and working directory, immutable and shared between copies.
    final class Execution: Hashable, Sendable {
        let command: [String]
        let environment: [String: String]
        let workingDirectory: String?

        init(command: [String], environment: [String: String], workingDirectory: String?) {
            self.command = command
            self.environment = environment
            self.workingDirectory = workingDirectory
        }

        static func == (a: Execution, b: Execution) -> Bool {
            a.command == b.command && a.environment == b.environment && a.workingDirectory == b.workingDirectory
        }

        func hash(into h: inout Hasher) {
            h.combine(command)
            h.combine(environment)
            h.combine(workingDirectory)
        }
    }

    private mutating func setExecution(command: [String]? = nil, environment: [String: String]? = nil,
                                       workingDirectory: String?? = nil) {
        let c = command ?? self.command, e = environment ?? self.environment
        let w = workingDirectory ?? self.workingDirectory
        execution = c.isEmpty && e.isEmpty && w == nil ? nil : Execution(command: c, environment: e, workingDirectory: w)
    }
}
