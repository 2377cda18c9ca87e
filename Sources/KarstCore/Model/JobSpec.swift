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
    public var command: [String]
    /// The command's environment (added to the agent's own minimal one).
    public var environment: [String: String]
    /// Where the command runs; the agent's run directory when nil.
    public var workingDirectory: String?

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
        self.command = command
        self.environment = environment
        self.workingDirectory = workingDirectory
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
