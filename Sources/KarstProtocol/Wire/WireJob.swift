/// `io.karst.Scheduler.Job` on the wire.
public struct WireJob: Hashable, Sendable {
    public var id: String
    public var spec: WireJobSpec
    public var state: String
    public var datacenter: String?
    public var pool: String?
    public var submittedAt: String
    public var startedAt: String?
    public var finishedAt: String?
    public var pendingReason: String?
    public var queuePosition: Int?
    public var estimatedStart: String?
    public var attempts: Int
    public var preemptions: Int
    public var message: String?
    /// A split gang's pools and replicas.
    public var shards: [WireShard]?
    public var borrowed: Bool?
    /// Dry run: the jobs it would preempt.
    public var preempts: [String]?

    public init(id: String, spec: WireJobSpec, state: String, datacenter: String? = nil, pool: String? = nil,
                submittedAt: String, startedAt: String? = nil, finishedAt: String? = nil,
                pendingReason: String? = nil, queuePosition: Int? = nil, estimatedStart: String? = nil,
                attempts: Int = 0, preemptions: Int = 0, message: String? = nil) {
        self.id = id
        self.spec = spec
        self.state = state
        self.datacenter = datacenter
        self.pool = pool
        self.submittedAt = submittedAt
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.pendingReason = pendingReason
        self.queuePosition = queuePosition
        self.estimatedStart = estimatedStart
        self.attempts = attempts
        self.preemptions = preemptions
        self.message = message
    }

    public init(_ r: inout ParameterReader) throws(VarlinkError) {
        id = try r.requiredString("id")
        var s = try r.requiredObject("spec")
        spec = try WireJobSpec(&s)
        state = try r.requiredString("state")
        datacenter = try r.string("datacenter")
        pool = try r.string("pool")
        submittedAt = try r.requiredString("submittedAt")
        startedAt = try r.string("startedAt")
        finishedAt = try r.string("finishedAt")
        pendingReason = try r.string("pendingReason")
        queuePosition = try r.int("queuePosition")
        estimatedStart = try r.string("estimatedStart")
        attempts = try r.int("attempts") ?? 0
        preemptions = try r.int("preemptions") ?? 0
        message = try r.string("message")
        if let list = try r.objects("shards") {
            var out: [WireShard] = []
            for var o in list { out.append(WireShard(pool: try o.requiredString("pool"), replicas: try o.int("replicas") ?? 0)) }
            shards = out
        }
        borrowed = try r.bool("borrowed")
        preempts = try r.strings("preempts")
    }

    public func write(to w: inout JSONWriter) {
        w.beginObject()
        w.key("id"); w.string(id)
        w.key("spec"); spec.write(to: &w)
        w.key("state"); w.string(state)
        if let datacenter { w.key("datacenter"); w.string(datacenter) }
        if let pool { w.key("pool"); w.string(pool) }
        w.key("submittedAt"); w.string(submittedAt)
        if let startedAt { w.key("startedAt"); w.string(startedAt) }
        if let finishedAt { w.key("finishedAt"); w.string(finishedAt) }
        if let pendingReason { w.key("pendingReason"); w.string(pendingReason) }
        if let queuePosition { w.key("queuePosition"); w.number(queuePosition) }
        if let estimatedStart { w.key("estimatedStart"); w.string(estimatedStart) }
        w.key("attempts"); w.number(attempts)
        w.key("preemptions"); w.number(preemptions)
        if let message { w.key("message"); w.string(message) }
        if let shards {
            w.key("shards")
            w.beginArray()
            for s in shards {
                w.beginObject()
                w.key("pool"); w.string(s.pool)
                w.key("replicas"); w.number(s.replicas)
                w.endObject()
            }
            w.endArray()
        }
        if let borrowed { w.key("borrowed"); w.bool(borrowed) }
        if let preempts {
            w.key("preempts")
            w.beginArray()
            for p in preempts { w.string(p) }
            w.endArray()
        }
        w.endObject()
    }
}

/// `io.karst.Scheduler.Shard` on the wire: part of a gang placed in one pool.
public struct WireShard: Hashable, Sendable {
    public var pool: String
    public var replicas: Int

    public init(pool: String, replicas: Int) {
        self.pool = pool
        self.replicas = replicas
    }
}

/// `io.karst.Scheduler.Event` on the wire.
public struct WireEvent: Hashable, Sendable {
    public var kind: String
    public var job: WireJob
    public var at: String

    public init(kind: String, job: WireJob, at: String) {
        self.kind = kind
        self.job = job
        self.at = at
    }

    public init(_ r: inout ParameterReader) throws(VarlinkError) {
        kind = try r.requiredString("kind")
        var j = try r.requiredObject("job")
        job = try WireJob(&j)
        at = try r.requiredString("at")
    }

    public func write(to w: inout JSONWriter) {
        w.beginObject()
        w.key("kind"); w.string(kind)
        w.key("job"); job.write(to: &w)
        w.key("at"); w.string(at)
        w.endObject()
    }
}
