import ArgumentParser
import KarstConfig
import KarstCore
import KarstSim
import KarstTrace

/// Where the trace comes from and how to read it; shared by `run` and `compare`.
struct TraceOptions: ParsableArguments {
    @Argument(help: ArgumentHelp(
        "Trace file (CSV or SWF), or - for standard input. Without one: standard input when it is "
            + "not a terminal, else a generated day (karst-sim generate).", valueName: "TRACE"))
    var trace: String?

    @Option(help: "auto, csv or swf.") var format: String = "auto"
    @Flag(help: "Report bad lines and go on, instead of stopping at the first.") var skipBadLines = false
    @Option(help: "Origin region for jobs whose trace gives none.") var defaultOrigin: String = "local"
    @Option(help: "Priority class for jobs whose trace gives none.") var defaultClass: String = "batch"
    @Option(help: "GiB per core for jobs whose trace gives no memory.") var memoryPerCore: Double = 4
    @Option(help: ArgumentHelp("SWF time zero when the log has no UnixStartTime (RFC 3339).", valueName: "TIME"))
    var swfStart: String = "2026-07-01T00:00:00+08:00"
    @Option(help: "Seed for what-if load copies (and the generated day without a trace).") var seed: UInt64 = 1
    @Flag(help: "No progress bar.") var quiet = false
    @Option(help: ArgumentHelp("Simulated time between scheduling passes (0: a pass at every instant something happens, "
                                   + "like the daemon; e.g. 10s trades fidelity for speed).", valueName: "DURATION"))
    var passInterval: String = "0"

    var passSeconds: Double {
        get throws {
            guard let s = parseDuration(passInterval) else { throw ValidationError("--pass-interval: a duration, e.g. 10s") }
            return s
        }
    }

    /// The jobs of the trace, ordered by arrival; bad lines per `--skip-bad-lines`.
    func load() throws -> (jobs: [TraceJob], source: String) {
        var path = trace
        if path == nil && !Streams.isTerminal(0) { path = "-" }
        guard let path else {
            Streams.error("karst-sim: no trace given: replaying a generated day (karst-sim generate --seed \(seed))")
            let day = WorkloadGenerator().generate(start: Instant(rfc3339: "2026-07-01T00:00:00+08:00")!, hours: 24, seed: seed)
            return (day, "generated day, seed \(seed)")
        }
        let bytes = try Streams.read(path)
        let fmt: TraceFormat
        if format == "auto" {
            fmt = TraceFormat.detect(bytes)
        } else if let f = TraceFormat(rawValue: format) {
            fmt = f
        } else {
            throw ValidationError("--format must be auto, csv or swf")
        }
        guard let zero = Instant(rfc3339: swfStart) else { throw ValidationError("--swf-start must be RFC 3339") }
        let name = path == "-" ? "standard input" : path
        let read: TraceReadResult
        do {
            read = try fmt.read(bytes, policy: skipBadLines ? .skip : .stop, start: zero)
        } catch {
            throw SimError.trace("\(name): \(error) (--skip-bad-lines reads on)")
        }
        for e in read.skipped.prefix(20) { Streams.error("karst-sim: \(name): skipped \(e)") }
        if read.skipped.count > 20 { Streams.error("karst-sim: \(name): … \(read.skipped.count) bad lines skipped in all") }
        let defaults = TraceDefaults(origin: defaultOrigin, priorityClass: defaultClass, memoryGiBPerCore: memoryPerCore)
        var jobs = read.records.map { TraceJob(record: $0, defaults: defaults) }
        if !zip(jobs, jobs.dropFirst()).allSatisfy({ $0.submitAt <= $1.submitAt }) {
            jobs.sort { $0.submitAt < $1.submitAt }
        }
        return (jobs, "\(name) (\(fmt.rawValue), \(jobs.count) jobs\(read.skipped.isEmpty ? "" : ", \(read.skipped.count) bad lines skipped"))")
    }

    /// Reads a configuration file (or the built-in hub) into a scenario.
    static func scenario(config: String?, label: String) throws -> Scenario {
        guard let config else { return Scenario(label: label, topology: KarstConfiguration.builtIn().topology) }
        do {
            return Scenario(label: label, topology: try KarstConfiguration.load(path: config).topology)
        } catch {
            throw SimError.usage(error.description)
        }
    }
}

/// Where the results go.
struct OutputOptions: ParsableArguments {
    @Flag(help: "Print the results as JSON instead of tables.") var json = false
    @Option(help: ArgumentHelp("Also write a self-contained HTML report here.", valueName: "FILE"))
    var report: String?
}
