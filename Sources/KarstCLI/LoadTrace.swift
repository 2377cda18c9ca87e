import ArgumentParser
import KarstCore
import KarstProtocol
import KarstTrace
import KarstWire

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
        let data = try readFile(file)
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
        try KarstCLI.run {
            var submitted = 0
            for start in stride(from: 0, to: jobs.count, by: batch) {
                let chunk = jobs[start..<min(start + batch, jobs.count)]
                let specs = chunk.map { WireMapping.spec(Self.spec($0, now: now, ownTenant: ownTenant)) }
                _ = try connection.call(SchedulerInterface.SubmitBatch.name,
                                        SchedulerInterface.SubmitBatch.Parameters(jobs: specs).jsonObject)
                submitted += chunk.count
            }
            print("\(submitted) jobs from \(file) submitted (\(format.rawValue)); see them with: karstctl list")
        }
    }

    /// A trace job's spec, its window moved to start now; without its tenant with `ownTenant`.
    static func spec(_ j: TraceJob, now: Instant, ownTenant: Bool) -> JobSpec {
        var s = j.spec
        if ownTenant { s.tenant = nil }
        let shift = j.submitAt.seconds(to: now)
        s.notAfter = s.notAfter?.advanced(bySeconds: shift)
        s.deadline = s.deadline?.advanced(bySeconds: shift)
        s.notBefore = s.notBefore?.advanced(bySeconds: shift)
        return s
    }
}
