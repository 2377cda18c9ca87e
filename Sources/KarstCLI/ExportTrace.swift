import ArgumentParser
import KarstCore
import KarstProtocol
import KarstTrace
import KarstWire

#if canImport(Glibc)
import Glibc
#endif

/// `karstctl export-trace`: the daemon's recent jobs as a workload trace in the cluster-log CSV
/// layout that `karst-sim run` replays (docs/TRACES.md), so yesterday's load can be replayed
/// against a changed configuration.
struct ExportTrace: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export-trace",
        abstract: "Write recent jobs as a replayable trace (CSV, Helios cluster_log layout + Karst columns).",
        discussion: """
            Jobs submitted within --since of now, in every state, oldest first. Run time: the \
            recorded run for finished jobs, else the job's durationSeconds, else (running) the time \
            so far. karst-sim replays the file: karstctl export-trace --since 24h > y.csv && \
            karst-sim run y.csv --config new.toml
            """)

    @OptionGroup var connection: Connection
    @Option(help: ArgumentHelp("How far back, by submission time (e.g. 24h, 90m, 7d).", valueName: "DURATION"))
    var since: String = "24h"
    @Option(name: .shortAndLong, help: ArgumentHelp("Write here instead of standard output.", valueName: "FILE"))
    var output: String?

    /// Jobs per `List` call.
    static let pageSize = 10_000

    func run() throws {
        guard let window = parseDuration(since), window > 0 else {
            throw ValidationError("--since must be a duration such as 24h, 90m or 7d")
        }
        try KarstCLI.run {
            let now = Instant(microseconds: Int64(wallSeconds() * 1_000_000))
            let cutoff = now.advanced(bySeconds: -window)
            var records: [(TraceRecord, UInt64)] = []
            var unknownRunTime = 0
            // Every job, a page at a time (the cursor is the last id of the previous page).
            let c = try connection.open()
            defer { c.close() }
            var cursor: String? = nil
            while true {
                var p: JSONObject = ["limit": .number(Double(Self.pageSize))]
                if let cursor { p["after"] = .string(cursor) }
                let reply = try Failure.map { try c.call("io.karst.Scheduler.List", p) }
                let jobs = try decodeList(reply, "jobs", WireJob.self)
                for j in jobs {
                    guard let r = TraceExport.record(j, now: now), r.submitTime >= cutoff else { continue }
                    if r.durationSeconds == 0 && j.spec.durationSeconds == nil && j.finishedAt == nil { unknownRunTime += 1 }
                    records.append((r, JobID(j.id)?.rawValue ?? 0))
                }
                guard let last = jobs.last?.id, (reply["remaining"]?.numberValue ?? 0) > 0 else { break }
                cursor = last
            }
            records.sort { ($0.0.submitTime, $0.1) < ($1.0.submitTime, $1.1) }
            let text = ClusterLogWriter().text(records.map(\.0))
            if let output, output != "-" {
                guard let f = fopen(output, "w") else { throw Failure.malformed("cannot write \(output)") }
                fputs(text, f)
                fclose(f)
                printErr("karstctl: \(records.count) jobs since \(TraceTime().format(cutoff)) written to \(output)")
            } else {
                print(text, terminator: "")
            }
            if unknownRunTime > 0 {
                printErr("karstctl: \(unknownRunTime) unfinished jobs have no durationSeconds and no elapsed run time; "
                    + "written with duration 0 (karst-sim replays them as 1 s)")
            }
        }
    }
}

/// A job as the daemon reports it, turned into a trace record.
enum TraceExport {
    static func record(_ j: WireJob, now: Instant) -> TraceRecord? {
        guard let submitted = Instant(rfc3339: j.submittedAt),
              let spec = try? WireMapping.spec(j.spec, path: "spec") else { return nil }
        let started = j.startedAt.flatMap { Instant(rfc3339: $0) }
        let finished = j.finishedAt.flatMap { Instant(rfc3339: $0) }
        var runTime = spec.durationSeconds ?? 0
        if let started, let finished, j.state != "cancelled" || spec.durationSeconds == nil {
            runTime = started.seconds(to: finished)
        } else if let started, j.state == "running", spec.durationSeconds == nil {
            runTime = started.seconds(to: now)
        }
        // The spec's fields as a trace has them (the inverse of TraceJob(record:)), then what
        // only the daemon knows: the id, the outcome so far, when it started and ended.
        var r = TraceRecord(job: TraceJob(submitAt: submitted, spec: spec), number: 0)
        r.jobID = j.id
        r.user = spec.tenant ?? ""
        r.outcome = switch j.state {
        case "succeeded": .completed
        case "failed": .failed
        case "cancelled": .cancelled
        case "running": .running
        default: .pending
        }
        r.startTime = started
        r.endTime = finished
        r.queueSeconds = started.map { submitted.seconds(to: $0) }
        r.durationSeconds = max(0, runTime.rounded())
        return r
    }
}
