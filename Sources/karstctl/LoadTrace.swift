import ArgumentParser
import Foundation
import KarstCore
import KarstProtocol
import KarstSim
import KarstTrace

/// `karstctl load-trace`: submits a workload trace's jobs to the running daemon, for a first look
/// at a hub with work in it (`make run`, then `karstctl load-trace Config/traces/sample-day.csv`).
struct LoadTrace: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load-trace",
        abstract: "Submit the jobs of a workload trace (CSV or SWF, docs/TRACES.md) to the daemon now.",
        discussion: """
            Jobs are submitted in arrival order, in batches, all at once: arrival times are not
            replayed (karst-sim does that, on a virtual clock). A flexibility window keeps its
            length from now. Tenants come from the trace; a caller who is not an admin submits
            everything as its own tenant.
            """)

    @OptionGroup var connection: Connection
    @Argument(help: ArgumentHelp("The trace file.", valueName: "FILE")) var file: String
    @Option(help: "Submit only the first N jobs.") var first: Int?
    @Flag(help: "Submit every job as your own tenant, ignoring the trace's tenants.") var ownTenant = false
    @Option(help: "Jobs per SubmitBatch call.") var batch: Int = 500

    func run() throws {
        guard batch > 0 else { throw ValidationError("--batch must be greater than 0") }
        guard let data = FileManager.default.contents(atPath: file) else { throw ValidationError("cannot read \(file)") }
        let bytes = Array(data)
        let format = TraceFormat.detect(bytes)
        let now = Instant(microseconds: Int64(wallSeconds() * 1_000_000))
        let result: TraceReadResult
        do { result = try format.read(bytes, policy: .stop, start: now) } catch {
            throw ValidationError("\(file): \(error)")
        }
        var jobs = result.records.map { TraceJob(record: $0, defaults: TraceDefaults()) }
        jobs.sort { $0.submitAt < $1.submitAt }
        if let first { jobs = Array(jobs.prefix(max(0, first))) }
        try karstctl.run {
            var submitted = 0
            for start in stride(from: 0, to: jobs.count, by: batch) {
                let chunk = jobs[start..<min(start + batch, jobs.count)]
                let specs = chunk.map { JSONValue.object(Self.wire($0, now: now, ownTenant: ownTenant)) }
                _ = try connection.call("io.karst.Scheduler.SubmitBatch", ["jobs": .array(specs)])
                submitted += chunk.count
            }
            print("\(submitted) jobs from \(file) submitted (\(format.rawValue)); see them with: karstctl list")
        }
    }

    /// The protocol's JobSpec for a trace job, its window moved to start now.
    static func wire(_ j: TraceJob, now: Instant, ownTenant: Bool) -> JSONObject {
        let s = j.spec
        var r: JSONObject = ["cpu": .number(s.resources.cpu), "memoryGiB": .number(s.resources.memoryGiB)]
        if s.resources.accelerators > 0 { r["accelerators"] = .number(Double(s.resources.accelerators)) }
        if let m = s.resources.acceleratorModel { r["acceleratorModel"] = .string(m) }
        var o: JSONObject = ["origin": .string(s.origin), "priorityClass": .string(s.priorityClass), "resources": .object(r)]
        if let name = s.name { o["name"] = .string(name) }
        if let tenant = s.tenant, !ownTenant { o["tenant"] = .string(tenant) }
        if s.priority != 0 { o["priority"] = .number(Double(s.priority)) }
        if s.replicas != 1 { o["replicas"] = .number(Double(s.replicas)) }
        if let d = s.durationSeconds { o["durationSeconds"] = .number(d) }
        if let l = s.maxLatencyMs { o["maxLatencyMs"] = .number(l.rounded()) }
        if s.maxRetries > 0 { o["maxRetries"] = .number(Double(s.maxRetries)) }
        let shift = j.submitAt.seconds(to: now)
        if let t = s.notAfter { o["notAfter"] = .string(t.advanced(bySeconds: shift).rfc3339) }
        if let t = s.deadline { o["deadline"] = .string(t.advanced(bySeconds: shift).rfc3339) }
        return o
    }
}
