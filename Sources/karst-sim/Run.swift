import ArgumentParser
import KarstCore
import KarstSim

/// `karst-sim run`: replay one trace under one configuration.
struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Replay a trace through the scheduling core and report waits, use, energy, cost, carbon and fairness.")

    @OptionGroup var input: TraceOptions
    @OptionGroup var output: OutputOptions
    @Option(help: ArgumentHelp("Configuration file (default: the built-in Guizhou hub).", valueName: "FILE"))
    var config: String?
    @Option(name: .customLong("set"), help: ArgumentHelp(
        "A what-if override KEY=VALUE, e.g. load.gba=2 or settings.grid_intensity_kg_per_kwh=0.5: configuration "
            + "keys are spelt and range-checked as in the TOML (docs/TRACES.md); repeatable.",
        valueName: "KEY=VALUE"))
    var overrides: [String] = []
    @Option(name: .customLong("event"), help: ArgumentHelp(
        "A site event 'TIME offline|drain|resume DATACENTRE', e.g. '2026-07-01T10:00 offline tc-qixing'; repeatable.",
        valueName: "EVENT"))
    var events: [String] = []
    @Option(name: .customLong("jobs-out"), help: ArgumentHelp(
        "Also write every job as the replay leaves it, one io.karst.Scheduler.Job per line (JSON Lines), "
            + "as the daemon shows jobs (without queue positions); - for standard output.",
        valueName: "FILE"))
    var jobsOut: String?

    func run() throws {
        try reportingFailures {
            let (jobs, source) = try input.load()
            var scenario = try TraceOptions.scenario(config: config, label: config ?? "built-in hub")
            for o in overrides { try scenario.apply(o) }
            for e in events { try scenario.apply("event=" + e) }
            let bar = ProgressBar(label: "karst-sim", quiet: input.quiet)
            let jobLines = JobLines()
            var final: ((borrowing SchedulerState) -> Void)? = nil
            if jobsOut != nil { final = jobLines.render }
            let summary = try scenario.replay(jobs, seed: input.seed, passInterval: input.passSeconds, progress: bar.update,
                                              final: final)
            bar.finish(events: summary.coreEvents)
            try Results.emit([summary], trace: source, output: output)
            if let jobsOut { try Streams.write(jobLines.text, to: jobsOut) }
        }
    }
}

/// Prints a failure as `karst-sim: message` and exits 1 (64 for bad usage).
func reportingFailures(_ body: () throws -> Void) throws {
    do { try body() } catch let e as SimError {
        Streams.error("karst-sim: \(e)")
        if case .usage = e { throw ExitCode(64) }
        throw ExitCode(1)
    }
}
