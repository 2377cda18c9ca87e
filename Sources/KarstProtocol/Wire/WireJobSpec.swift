/// `io.karst.Scheduler.Resources` on the wire.
public struct WireResources: Hashable, Sendable {
    public var cpu: Double
    public var memoryGiB: Double
    public var accelerators: Int?
    public var acceleratorModel: String?

    public init(cpu: Double, memoryGiB: Double, accelerators: Int? = nil, acceleratorModel: String? = nil) {
        self.cpu = cpu
        self.memoryGiB = memoryGiB
        self.accelerators = accelerators
        self.acceleratorModel = acceleratorModel
    }

    public init(_ r: inout ParameterReader) throws(VarlinkError) {
        cpu = try r.requiredDouble("cpu")
        memoryGiB = try r.requiredDouble("memoryGiB")
        accelerators = try r.int("accelerators")
        acceleratorModel = try r.string("acceleratorModel")
        try r.finish()
    }

    public func write(to w: inout JSONWriter) {
        w.beginObject()
        w.key("cpu"); w.number(cpu)
        w.key("memoryGiB"); w.number(memoryGiB)
        if let accelerators { w.key("accelerators"); w.number(accelerators) }
        if let acceleratorModel { w.key("acceleratorModel"); w.string(acceleratorModel) }
        w.endObject()
    }
}

/// `io.karst.Scheduler.JobSpec` on the wire. Times stay RFC 3339 strings here; the server
/// parses them and names the field when one is malformed.
public struct WireJobSpec: Hashable, Sendable {
    public var name: String?
    public var tenant: String?
    public var origin: String
    public var priorityClass: String
    public var priority: Int?
    public var resources: WireResources
    public var replicas: Int?
    public var durationSeconds: Double?
    public var maxLatencyMs: Int?
    public var datacenters: [String]?
    public var preemptible: Bool?
    public var deadline: String?
    public var notBefore: String?
    public var notAfter: String?
    public var dependsOn: [String]?
    public var maxRetries: Int?
    public var labels: [String: String]?

    public init(name: String? = nil, tenant: String? = nil, origin: String, priorityClass: String,
                priority: Int? = nil, resources: WireResources, replicas: Int? = nil,
                durationSeconds: Double? = nil, maxLatencyMs: Int? = nil, datacenters: [String]? = nil,
                preemptible: Bool? = nil, deadline: String? = nil, notBefore: String? = nil,
                notAfter: String? = nil, dependsOn: [String]? = nil, maxRetries: Int? = nil,
                labels: [String: String]? = nil) {
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
    }

    public init(_ r: inout ParameterReader) throws(VarlinkError) {
        name = try r.string("name")
        tenant = try r.string("tenant")
        origin = try r.requiredString("origin")
        priorityClass = try r.requiredString("priorityClass")
        priority = try r.int("priority")
        var res = try r.requiredObject("resources")
        resources = try WireResources(&res)
        replicas = try r.int("replicas")
        durationSeconds = try r.double("durationSeconds")
        maxLatencyMs = try r.int("maxLatencyMs")
        datacenters = try r.strings("datacenters")
        preemptible = try r.bool("preemptible")
        deadline = try r.string("deadline")
        notBefore = try r.string("notBefore")
        notAfter = try r.string("notAfter")
        dependsOn = try r.strings("dependsOn")
        maxRetries = try r.int("maxRetries")
        labels = try r.stringMap("labels")
        try r.finish()
    }

    public func write(to w: inout JSONWriter) {
        w.beginObject()
        if let name { w.key("name"); w.string(name) }
        if let tenant { w.key("tenant"); w.string(tenant) }
        w.key("origin"); w.string(origin)
        w.key("priorityClass"); w.string(priorityClass)
        if let priority { w.key("priority"); w.number(priority) }
        w.key("resources"); resources.write(to: &w)
        if let replicas { w.key("replicas"); w.number(replicas) }
        if let durationSeconds { w.key("durationSeconds"); w.number(durationSeconds) }
        if let maxLatencyMs { w.key("maxLatencyMs"); w.number(maxLatencyMs) }
        if let datacenters { w.key("datacenters"); w.strings(datacenters) }
        if let preemptible { w.key("preemptible"); w.bool(preemptible) }
        if let deadline { w.key("deadline"); w.string(deadline) }
        if let notBefore { w.key("notBefore"); w.string(notBefore) }
        if let notAfter { w.key("notAfter"); w.string(notAfter) }
        if let dependsOn { w.key("dependsOn"); w.strings(dependsOn) }
        if let maxRetries { w.key("maxRetries"); w.number(maxRetries) }
        if let labels {
            w.key("labels")
            w.beginObject()
            for k in labels.keys.sorted() { w.key(k); w.string(labels[k]!) }
            w.endObject()
        }
        w.endObject()
    }
}

extension JSONWriter {
    /// An array of strings.
    public mutating func strings(_ values: [String]) {
        beginArray()
        for v in values { string(v) }
        endArray()
    }
}
