import ArgumentParser
import KarstSim

/// `karst-sim run`: replay one trace under one configuration.
struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Replay a trace through the scheduling core and report waits, use, energy, cost, carbon and fairness.")

    @OptionGroup var input: TraceOptions
    @OptionGroup var output: OutputOptions
    @Option(help: ArgumentHelp("Configuration file (default: the built-in Guizhou hub).", valueName: "FILE"))
    var config: String?
    @Option(name: .customLong("set"), help: ArgumentHelp("A what-if override KEY=VALUE (docs/TRACES.md); repeatable.",
                                                          valueName: "KEY=VALUE"))
    var overrides: [String] = []
    @Option(name: .customLong("event"), help: ArgumentHelp(
        "A site event 'TIME offline|drain|resume DATACENTRE', e.g. '2026-07-01T10:00 offline tc-qixing'; repeatable.",
        valueName: "EVENT"))
    var events: [String] = []

    func run() throws {
        try reportingFailures {
            let (jobs, source) = try input.load()
            var scenario = try TraceOptions.scenario(config: config, label: config ?? "built-in hub")
            for o in overrides { try scenario.apply(o) }
            for e in events { try scenario.apply("event=" + e) }
            let bar = ProgressBar(label: "karst-sim", quiet: input.quiet)
            let summary = try scenario.replay(jobs, seed: input.seed, passInterval: input.passSeconds, progress: bar.update)
            bar.finish(events: summary.coreEvents)
            try Results.emit([summary], trace: source, output: output)
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
