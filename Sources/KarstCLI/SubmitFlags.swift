import ArgumentParser
import KarstProtocol

/// `karstctl submit`'s flags as plain values: `Submit` fills them from ArgumentParser, the fast
/// path (FastPath.swift) from the few argument shapes it reads itself. Everything after parsing
/// — building the specs, arrays, files, the calls, the output — is here, once.
struct SubmitFlags: Equatable {
    var socket: String?
    var json = false
    var file: String?
    var name: String?
    var tenant: String?
    var origin: String?
    var priorityClass: String?
    var priority: Int?
    var cpu: Double?
    var memory: Double?
    var accelerators: Int?
    var acceleratorModel: String?
    var replicas: Int?
    var duration: String?
    var maxLatency: Int?
    var datacenters: [String] = []
    var preemptible: Bool?
    var deadline: String?
    var notBefore: String?
    var notAfter: String?
    var dependsOn: [String] = []
    var maxRetries: Int?
    var labels: [String] = []
    var environment: [String] = []
    var workingDirectory: String?
    var dryRun = false
    var array: String?
    var command: [String] = []

    func run() throws {
        try KarstCLI.run {
            let (specs, many) = try buildSpecs()
            if many {
                guard !dryRun else { throw ValidationError("--dry-run takes one job, not an array or a file of several") }
                return try BulkSubmit(daemon: Daemon(socket: socket), json: json).run(specs)
            }
            let reply = try Daemon(socket: socket).call(
                SchedulerInterface.Submit.name, parameters: SchedulerInterface.Submit.Parameters(job: specs[0], dryRun: dryRun))
            if json { return printJSON(reply) }
            if dryRun { return print(describeDryRun(try decode(reply, "job", WireJob.self))) }
            // The line a script reads: four members of the job, read as they are (decoding the
            // whole job would cost a loop of submits more than printing it).
            guard let job = reply["job"]?.objectValue, let id = job["id"]?.stringValue, let state = job["state"]?.stringValue else {
                throw Failure.malformed("the reply has no job with an id and a state")
            }
            if let dc = job["datacenter"]?.stringValue {
                printLine("\(id) \(state) \(dc)/\(job["pool"]?.stringValue ?? "?")")
            } else {
                printLine("\(id) \(state)" + (job["pendingReason"]?.stringValue.map { ": \($0)" } ?? ""))
            }
        }
    }

    /// The specs, and whether they are several (an array, or a file of several) rather than one.
    func buildSpecs() throws -> ([WireJobSpec], Bool) {
        var specs: [WireJobSpec]
        var many = false
        if let file {
            let objects = try SpecFile.objects(in: try readFile(file), named: file == "-" ? "standard input" : file)
            many = objects.count > 1
            specs = []
            specs.reserveCapacity(objects.count)
            for (where_, o) in objects { specs.append(try spec(from: o, at: where_)) }
        } else {
            guard origin != nil else { throw ValidationError("--origin is required (or give it in --file)") }
            guard priorityClass != nil else { throw ValidationError("--class is required (or give it in --file)") }
            guard cpu != nil, memory != nil else { throw ValidationError("--cpu and --memory are required (or resources in --file)") }
            specs = [try spec(from: nil, at: "")]
        }
        if let array {
            let indices = try ArrayIndices.parse(array, count: specs.count)
            specs = ArrayIndices.expand(specs, indices)
            many = true
        }
        return (specs, many)
    }

    /// One spec: the file's object (read by the generated `WireJobSpec`, so a misspelt field
    /// is named), then each flag given over it.
    private func spec(from object: JSONObject?, at where_: String) throws -> WireJobSpec {
        var spec = WireJobSpec(origin: "", priorityClass: "", resources: WireResources(cpu: .nan, memoryGiB: .nan))
        if var o = object {
            if case .object(let inner)? = o["job"] { o = inner }
            // What the flags give may be missing from the file: a placeholder until they do.
            if o["origin"] == nil, origin != nil { o["origin"] = .string("") }
            if o["priorityClass"] == nil, priorityClass != nil { o["priorityClass"] = .string("") }
            if o["resources"] == nil, cpu != nil, memory != nil { o["resources"] = spec.resources.json }
            do { spec = try WireJobSpec(object: o, path: WirePath("job"), strict: true) } catch {
                throw ValidationError("\(where_): \(error)")
            }
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
