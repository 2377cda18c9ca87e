import ArgumentParser
import KarstCore
import KarstSim
import KarstTrace

/// `karst-sim generate`: a seeded synthetic trace on standard output (or a file).
struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a seeded synthetic workload trace (docs/TRACES.md describes every distribution).")

    @Option(help: "Hours of arrivals.") var hours: Double = 24
    @Option(help: "Seed: the same seed and options give the same trace.") var seed: UInt64 = 1
    @Option(help: "Scale every region's arrival rate by this factor.") var load: Double = 1
    @Option(help: ArgumentHelp("First possible arrival (RFC 3339).", valueName: "TIME"))
    var start: String = "2026-07-01T00:00:00+08:00"
    @Option(help: "csv (Helios cluster_log layout + Karst columns) or swf.") var format: String = "csv"
    @Option(name: .shortAndLong, help: ArgumentHelp("Write here instead of standard output.", valueName: "FILE"))
    var output: String?

    func run() throws {
        guard let startAt = Instant(rfc3339: start) else {
            throw ValidationError("--start must be an RFC 3339 time, e.g. 2026-07-01T00:00:00+08:00")
        }
        guard let fmt = TraceFormat(rawValue: format) else { throw ValidationError("--format must be csv or swf") }
        guard hours > 0, load >= 0 else { throw ValidationError("--hours must be > 0 and --load ≥ 0") }
        var generator = WorkloadGenerator()
        for i in generator.regions.indices { generator.regions[i].jobsPerHour *= load }
        let jobs = generator.generate(start: startAt, hours: hours, seed: seed)
        let records = jobs.enumerated().map { TraceRecord(job: $1, number: $0 + 1) }
        let text = switch fmt {
        case .csv: ClusterLogWriter().text(records)
        case .swf: SWFWriter().text(records, comments: [
            "Generator: karst-sim generate --hours \(traceNumber(hours)) --seed \(seed) --load \(traceNumber(load)) --start \(start)",
        ])
        }
        try Streams.write(text, to: output)
        if output != nil && output != "-" {
            Streams.error("karst-sim: wrote \(jobs.count) jobs (\(traceNumber(hours)) h, seed \(seed)) to \(output!)")
        }
    }
}
