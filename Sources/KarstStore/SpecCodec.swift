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

    /// Reads the members in one pass (recovery decodes a million of these).
    static func decode(_ text: String) throws -> JobSpec {
        var utf8 = text
        let value = try utf8.withUTF8 { try JSONParser.parse($0) }
        guard case .object(let o) = value else { throw Corrupt(description: "spec is not an object") }
        var spec = JobSpec(origin: "", priorityClass: "", resources: ResourceRequest(cpu: -1, memoryGiB: -1))
        for m in o.members {
            let v = m.value
            switch m.key {
            case "name": spec.name = v.stringValue
            case "tenant": spec.tenant = v.stringValue
            case "origin": spec.origin = v.stringValue ?? ""
            case "priorityClass": spec.priorityClass = v.stringValue ?? ""
            case "priority": spec.priority = Int(v.numberValue ?? 0)
            case "cpu": spec.resources.cpu = v.numberValue ?? -1
            case "memoryGiB": spec.resources.memoryGiB = v.numberValue ?? -1
            case "accelerators": spec.resources.accelerators = Int(v.numberValue ?? 0)
            case "acceleratorModel": spec.resources.acceleratorModel = v.stringValue
            case "replicas": spec.replicas = Int(v.numberValue ?? 1)
            case "durationSeconds": spec.durationSeconds = v.numberValue
            case "maxLatencyMs": spec.maxLatencyMs = v.numberValue
            case "datacenters": spec.datacenters = v.arrayValue?.compactMap(\.stringValue)
            case "preemptible": spec.preemptible = v.boolValue
            case "deadline": spec.deadline = v.numberValue.map { Instant(microseconds: Int64($0)) }
            case "notBefore": spec.notBefore = v.numberValue.map { Instant(microseconds: Int64($0)) }
            case "notAfter": spec.notAfter = v.numberValue.map { Instant(microseconds: Int64($0)) }
            case "dependsOn": spec.dependsOn = (v.arrayValue ?? []).compactMap { $0.numberValue.map { JobID(UInt64($0)) } }
            case "maxRetries": spec.maxRetries = Int(v.numberValue ?? 0)
            case "labels":
                for l in v.objectValue?.members ?? [] { spec.labels[l.key] = l.value.stringValue }
            default: break
            }
        }
        guard !spec.origin.isEmpty, !spec.priorityClass.isEmpty, spec.resources.cpu >= 0, spec.resources.memoryGiB >= 0 else {
            throw Corrupt(description: "spec lacks origin, priorityClass or resources")
        }
        return spec
    }
}
