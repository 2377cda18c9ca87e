import GRDB
import KarstCore
import KarstJSON

/// Schema v3 keeps a job's spec as the control protocol's `JobSpec` JSON (`SpecCodec`). Before
/// it, the column held a flat shape of its own (resources' members at the top, times as integer
/// microseconds, dependencies as numbers); this migration rewrites every row once. The reader
/// below is that old shape, frozen: it serves this migration and nothing else.
enum SpecV2Migration {
    static func register(in m: inout DatabaseMigrator) {
        m.registerMigration("v3") { db in
            let update = try db.makeStatement(sql: "UPDATE jobs SET spec = ? WHERE id = ?")
            var after: Int64 = -1
            while true {
                let rows = try Row.fetchAll(db, sql: "SELECT id, spec FROM jobs WHERE id > ? ORDER BY id LIMIT 10000",
                                            arguments: [after])
                guard let last = rows.last else { break }
                for row in rows {
                    let id: Int64 = row["id"]
                    let text: String = row["spec"]
                    let spec: JobSpec
                    do { spec = try decode(text) } catch {
                        throw DatabaseError(message: "job \(id): \(error)")
                    }
                    try update.execute(arguments: [SpecCodec.encode(spec), id])
                }
                after = last["id"]
            }
        }
    }

    typealias Corrupt = SpecCodec.Corrupt

    /// Reads v2's shape in one pass.
    static func decode(_ text: String) throws -> JobSpec {
        let o = try SpecCodec.object(text)
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
