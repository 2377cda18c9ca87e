import Foundation
import KarstConfig
import KarstCore

/// Valid values for the fields of the Karst interfaces, by field name: the built-in hub's
/// regions, classes, data centres and accelerator models, job ids, sensible numbers and times.
/// The one field that names a file, `Admin.Backup`'s `path`, only ever gets a path inside the
/// campaign's backup directory (see `safePath`).
struct FuzzVocabulary: Sendable {
    let regions: [String]
    let classes: [String]
    let tenants: [String]
    let datacenters: [String]
    let acceleratorModels: [String]
    let interfaces: [String]
    /// Absolute; everything `Backup` may write goes below it.
    let backupDirectory: String
    /// RFC 3339 times 0…72 hours from the campaign's start.
    private let hoursAhead: [String]

    init(interfaces: [String], backupDirectory: String) {
        let t = KarstConfiguration.builtIn().topology
        regions = t.regions.map(\.id)
        classes = t.classes.map(\.id)
        tenants = ["root", "fuzz"] + t.tenants.map(\.id)
        datacenters = t.datacenters.map(\.id)
        acceleratorModels = Array(Set(t.datacenters.flatMap { $0.pools.compactMap(\.acceleratorModel) })).sorted()
        self.interfaces = interfaces
        self.backupDirectory = backupDirectory
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        hoursAhead = (0...72).map { f.string(from: Date(timeIntervalSinceNow: Double($0) * 3600 + 60)) }
    }

    /// A few names only, so that at most that many backups are ever written (a name that exists
    /// already is refused). Odd names stay single path components: no `/`, no NUL, never `..`.
    func safePath(_ rng: inout SeededRandom) -> String {
        let names = ["b0", "b1", "b2", "b3", "backup é", "贵州.db", String(repeating: "n", count: 300), "b 4"]
        return backupDirectory + "/" + rng.pick(names)
    }

    static let states = ["pending", "held", "running", "succeeded", "failed", "cancelled"]

    /// A valid value for a string field, or nil when the name says nothing.
    func string(_ field: String, _ rng: inout SeededRandom) -> String? {
        switch field {
        case "origin": rng.pick(regions)
        case "priorityClass", "class": rng.pick(classes)
        case "tenant": rng.pick(tenants)
        case "datacenter": rng.pick(datacenters)
        case "acceleratorModel": rng.pick(acceleratorModels)
        case "id", "after": "job-\(rng.int(1...300))"
        case "state": rng.pick(Self.states)
        case "outcome": rng.pick(["succeeded", "failed"])
        case "deadline": hoursAhead[rng.int(24...72)]
        case "notBefore": hoursAhead[rng.int(0...2)]
        case "notAfter": hoursAhead[rng.int(3...23)]
        case "interface": rng.pick(interfaces)
        case "path": safePath(&rng)
        case "name": "fuzz-\(rng.below(1000))"
        case "text": "ping"
        case "message": "fuzzed"
        default: nil
        }
    }

    /// A valid number for a numeric field (as JSON text).
    func number(_ field: String, _ rng: inout SeededRandom) -> String {
        switch field {
        case "cpu": rng.pick(["0.001", "0.5", "1", "2"])
        case "memoryGiB": rng.pick(["0.001", "1", "4"])
        case "accelerators": "0"
        case "replicas": String(rng.int(1...2))
        case "priority": String(rng.int(-5...5))
        case "durationSeconds": String(rng.int(1...60))
        case "maxLatencyMs": String(rng.int(60...200))
        case "maxRetries": String(rng.int(0...3))
        case "limit": String(rng.int(1...20))
        default: "1"
        }
    }

    /// A valid array for an array field, or nil when the name says nothing.
    func array(_ field: String, _ rng: inout SeededRandom) -> FuzzValue? {
        switch field {
        case "datacenters": .array(datacenters.filter { _ in rng.chance(0.5) }.map { .string($0) } + [.string(datacenters[0])])
        case "dependsOn", "ids": .array((0..<rng.int(0...2)).map { _ in .string("job-\(rng.int(1...300))") })
        default: nil
        }
    }
}
