import ArgumentParser

/// `karst-sim`: generates workloads and replays them through the real scheduling core on a
/// virtual clock, alone or two configurations side by side.
@main
struct KarstSimCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "karst-sim",
        abstract: "Generate workload traces and replay them through the Karst scheduling core on a virtual clock.",
        discussion: """
            karst-sim generate | karst-sim run --report r.html
            karst-sim compare TRACE --set-b 'event=2026-07-01T10:00 offline tc-qixing' --report cmp.html
            karst-sim run TRACE --set settings.deadline_slack_seconds=1800 --set scoring.carbon=2
            Trace formats and what-if keys (configuration keys as spelt in the TOML): docs/TRACES.md.
            """,
        subcommands: [Generate.self, Run.self, Compare.self], defaultSubcommand: Run.self)
}
