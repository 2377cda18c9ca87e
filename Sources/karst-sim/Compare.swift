import ArgumentParser
import KarstSim

/// `karst-sim compare`: the same trace under two configurations (or two sets of overrides).
struct Compare: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Replay one trace twice — two configurations, or two sets of what-if overrides — and report the differences.",
        discussion: """
            karst-sim compare --config A.toml --config B.toml TRACE
            karst-sim compare TRACE --set-b 'event=2026-07-01T10:00 offline tc-qixing' --set-b 'event=2026-07-02T10:00 resume tc-qixing'
            karst-sim compare TRACE --set-b load.gba=2 --report gba-doubles.html
            """)

    @OptionGroup var input: TraceOptions
    @OptionGroup var output: OutputOptions
    @Option(help: ArgumentHelp("Configuration file: give it twice (A, then B), or once for both sides.", valueName: "FILE"))
    var config: [String] = []
    @Option(name: .customLong("set"), help: ArgumentHelp("An override for both sides.", valueName: "KEY=VALUE"))
    var both: [String] = []
    @Option(name: .customLong("set-a"), help: ArgumentHelp("An override for side A only.", valueName: "KEY=VALUE"))
    var onlyA: [String] = []
    @Option(name: .customLong("set-b"), help: ArgumentHelp("An override for side B only.", valueName: "KEY=VALUE"))
    var onlyB: [String] = []
    @Option(name: .customLong("event"), help: ArgumentHelp("A site event for both sides (as for run).", valueName: "EVENT"))
    var events: [String] = []

    func validate() throws {
        guard config.count <= 2 else { throw ValidationError("--config at most twice (A and B)") }
        guard config.count == 2 || !onlyA.isEmpty || !onlyB.isEmpty else {
            throw ValidationError("nothing to compare: give --config twice, or --set-a / --set-b overrides")
        }
    }

    func run() throws {
        try reportingFailures {
            let (jobs, source) = try input.load()
            var summaries: [ReplaySummary] = []
            for (side, own) in [("A", onlyA), ("B", onlyB)] {
                let file = config.count == 2 ? config[side == "A" ? 0 : 1] : config.first
                var label = file ?? "built-in hub"
                if !own.isEmpty { label += " + " + own.joined(separator: ", ") }
                var scenario = try TraceOptions.scenario(config: file, label: label)
                for o in both + own { try scenario.apply(o) }
                for e in events { try scenario.apply("event=" + e) }
                let bar = ProgressBar(label: "karst-sim \(side)", quiet: input.quiet)
                summaries.append(try scenario.replay(jobs, seed: input.seed, passInterval: input.passSeconds, progress: bar.update))
                bar.finish(events: summaries.last!.coreEvents)
            }
            try Results.emit(summaries, trace: source, output: output)
        }
    }
}
