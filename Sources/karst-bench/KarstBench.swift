import ArgumentParser

/// `karst-bench`: performance measurements of Karst, meant for release builds.
@main
struct KarstBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "karst-bench",
        abstract: "Measure Karst's performance (build with -c release).",
        subcommands: [CoreBench.self, ReplyBench.self, SocketBench.self, RecoveryBench.self, FsyncBench.self, FuzzBench.self, FloodBench.self, SoakBench.self,
                      AgentBench.self, CliBench.self])
}
