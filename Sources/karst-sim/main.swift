import ArgumentParser
import KarstConfig
import KarstCore
import KarstSim

/// `karst-sim`: replays workloads through the real scheduling core on a virtual clock.
@main
struct KarstSimCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "karst-sim",
        abstract: "Replay workloads through the Karst scheduling core on a virtual clock.",
        subcommands: [Run.self], defaultSubcommand: Run.self)
}

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Generate a seeded sample workload and replay it on the hub topology.")

    @Option(help: ArgumentHelp("Configuration file (default: the built-in Guizhou hub).", valueName: "FILE"))
    var config: String?

    @Option(help: "Hours of arrivals to generate.")
    var hours: Double = 24

    @Option(help: "Seed of the generated workload.")
    var seed: UInt64 = 1

    @Option(help: "Scale every region's arrival rate by this factor.")
    var load: Double = 1

    @Option(help: ArgumentHelp("When the simulated day starts (RFC 3339).", valueName: "TIME"))
    var start: String = "2026-07-01T00:00:00+08:00"

    mutating func run() throws {
        let topology: Topology
        if let config {
            do { topology = try KarstConfiguration.load(path: config).topology } catch {
                print(error.description)
                throw ExitCode(1)
            }
        } else {
            topology = KarstConfiguration.builtIn().topology
        }
        guard let startAt = Instant(rfc3339: start) else {
            throw ValidationError("--start must be an RFC 3339 time, e.g. 2026-07-01T00:00:00+08:00")
        }
        var generator = WorkloadGenerator()
        for i in generator.regions.indices { generator.regions[i].jobsPerHour *= load }
        let trace = generator.generate(start: startAt, hours: hours, seed: seed)
        print("Replaying \(trace.count) generated jobs (\(hours) h of arrivals, seed \(seed)) "
            + "on \(topology.datacenters.count) data centres…\n")
        let result = Replay(topology: topology).run(trace)
        print(Summary(result).text, terminator: "")
    }
}
