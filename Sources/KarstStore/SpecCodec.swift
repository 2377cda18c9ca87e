import KarstCore
import KarstJSON

/// A job spec as compact JSON text for the `jobs.spec` column. Written once at submission; read
/// back at recovery. Field names follow the control protocol's `JobSpec`.
enum SpecCodec {
    static func encode(_ s: JobSpec) -> String {
        var w = JSONWriter(capacity: 192)
        w.beginObject()
        if let name = s.name { w.key("name"); w.string(name) }
        if let tenant = s.tenant { w.key("tenant"); w.string(tenant) }
        w.key("origin"); w.string(s.origin)
        w.key("priorityClass"); w.string(s.priorityClass)
        if s.priority != 0 { w.key("priority"); w.number(s.priority) }
        w.key("cpu"); w.number(s.resources.cpu)
        w.key("memoryGiB"); w.number(s.resources.memoryGiB)
        if s.resources.accelerators != 0 { w.key("accelerators"); w.number(s.resources.accelerators) }
        if let m = s.resources.acceleratorModel { w.key("acceleratorModel"); w.string(m) }
        if s.replicas != 1 { w.key("replicas"); w.number(s.replicas) }
        if let d = s.durationSeconds { w.key("durationSeconds"); w.number(d) }
        if let l = s.maxLatencyMs { w.key("maxLatencyMs"); w.number(l) }
        if let dcs = s.datacenters {
            w.key("datacenters")
            w.beginArray()
            for d in dcs { w.string(d) }
            w.endArray()
        }
        if let p = s.preemptible { w.key("preemptible"); w.bool(p) }
        if let t = s.deadline { w.key("deadline"); w.number(Int(t.microseconds)) }
        if let t = s.notBefore { w.key("notBefore"); w.number(Int(t.microseconds)) }
        if let t = s.notAfter { w.key("notAfter"); w.number(Int(t.microseconds)) }
        if !s.dependsOn.isEmpty {
            w.key("dependsOn")
            w.beginArray()
            for d in s.dependsOn { w.number(Int(d.rawValue)) }
            w.endArray()
        }
        if s.maxRetries != 0 { w.key("maxRetries"); w.number(s.maxRetries) }
        if !s.labels.isEmpty {
            w.key("labels")
            w.beginObject()
            for k in s.labels.keys.sorted() { w.key(k); w.string(s.labels[k]!) }
            w.endObject()
        }
        w.endObject()
        return String(decoding: w.bytes, as: UTF8.self)
    }

    struct Corrupt: Error, CustomStringConvertible {
        var description: String
    }

    static func decode(_ text: String) throws -> JobSpec {
        guard case .object(let o) = try JSONParser.parse(Array(text.utf8)) else { throw Corrupt(description: "spec is not an object") }
        func str(_ k: String) -> String? { o[k]?.stringValue }
        func num(_ k: String) -> Double? { o[k]?.numberValue }
        func time(_ k: String) -> Instant? { num(k).map { Instant(microseconds: Int64($0)) } }
        guard let origin = str("origin"), let cls = str("priorityClass"), let cpu = num("cpu"), let mem = num("memoryGiB") else {
            throw Corrupt(description: "spec lacks origin, priorityClass or resources")
        }
        var labels: [String: String] = [:]
        for m in o["labels"]?.objectValue?.members ?? [] { labels[m.key] = m.value.stringValue }
        return JobSpec(
            name: str("name"), tenant: str("tenant"), origin: origin, priorityClass: cls,
            priority: Int(num("priority") ?? 0),
            resources: ResourceRequest(cpu: cpu, memoryGiB: mem, accelerators: Int(num("accelerators") ?? 0),
                                       acceleratorModel: str("acceleratorModel")),
            replicas: Int(num("replicas") ?? 1), durationSeconds: num("durationSeconds"), maxLatencyMs: num("maxLatencyMs"),
            datacenters: o["datacenters"]?.arrayValue?.compactMap(\.stringValue), preemptible: o["preemptible"]?.boolValue,
            deadline: time("deadline"), notBefore: time("notBefore"), notAfter: time("notAfter"),
            dependsOn: (o["dependsOn"]?.arrayValue ?? []).compactMap { $0.numberValue.map { JobID(UInt64($0)) } },
            maxRetries: Int(num("maxRetries") ?? 0), labels: labels)
    }
}
