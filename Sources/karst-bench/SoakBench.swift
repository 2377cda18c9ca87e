import ArgumentParser
import Foundation

/// `karst-bench soak`: the daemon under mixed load from several clients, killed with SIGKILL
/// every few seconds and restarted on the same state; a ledger of acknowledged calls is held
/// against the recovered state after every restart and at the end, and the daemon's RSS and the
/// calls' latencies are reported. Exits non-zero on any violation.
struct SoakBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "soak",
        abstract: "Soak test: mixed load, repeated kill -9, a ledger of acknowledged calls, RSS and latency.",
        discussion: """
            Starts the release karstd built beside this binary on a temporary socket and durable state \
            directory, with the built-in hub written to a configuration file (retention shortened to \
            --retention). Load clients call Submit, SubmitBatch, Submit with dryRun, Cancel, Hold, \
            Release, Complete, Get and List; a watcher streams every event; an admin reloads the \
            configuration and drains, takes offline and resumes data centres. The daemon is killed \
            (SIGKILL) at seeded random intervals and restarted; with every client parked, the state it \
            recovered is checked against the ledger. At the end it is stopped with SIGTERM, restarted \
            and checked once more, stopped, and `karstd --check-state` must pass.
            """)

    @Option(help: "How long the load runs, in minutes (fractional allowed).")
    var minutes: Double = 1

    @Option(help: "Mean seconds between kills; each interval is drawn from 0.5× to 1.5× of it.")
    var killEvery: Double = 3

    @Option(help: "Seed of the kill intervals and of every client's calls.")
    var seed: UInt64 = 1

    @Option(help: "Load clients (besides the watcher and the admin).")
    var clients = 4

    @Option(help: "Calls per second per load client (one call at a time).")
    var rate: Double = 25

    @Option(help: "Unfinished jobs per load client at most (then it cancels and completes).")
    var maxLive = 100

    @Option(help: ArgumentHelp("""
        The daemon's --time-scale: modelled jobs (10 s to 2 min) finish this many times faster. Its \
        model clock starts from the wall clock at every start, so it runs ahead by up to (scale - 1) \
        × the incarnation's age, and finished jobs are pruned that much later: a larger scale keeps \
        more finished jobs.
        """))
    var timeScale: Double = 20

    @Option(help: ArgumentHelp("""
        Retention of finished jobs, in seconds ([state] retention_days of the daemon's configuration). \
        Least: time scale / 2 + 5 + 3 × kill interval + 30; default: that, or 87 (karstd's least) if more.
        """, valueName: "SECONDS"))
    var retention: Double?

    @Option(help: "Mean seconds between admin calls.")
    var adminEvery: Double = 0.5

    /// How far the model clock can be ahead of the wall clock when the daemon prunes: it prunes
    /// at the first batch of an incarnation (taken to come within half a wall second of the start
    /// of its clock, which starts at the wall time), then hourly. Too small a slack could only
    /// make the checks report a pruned job as missing, never hide a loss.
    var pruneSlack: Double { 0.5 * timeScale + 5 }

    /// The retention in force: every acknowledged job must be seen by the check after the next
    /// restart before the daemon can prune it.
    /// (karstd takes at least 0.001 days.)
    var retentionSeconds: Double { retention ?? max(87, (pruneSlack + 3 * killEvery + 30).rounded(.up)) }

    func validate() throws {
        guard minutes > 0, minutes <= 24 * 60 else { throw ValidationError("--minutes must be in (0, 1440]") }
        guard killEvery >= 0.5, killEvery <= 3600 else { throw ValidationError("--kill-every must be in [0.5, 3600]") }
        guard (1...64).contains(clients) else { throw ValidationError("--clients must be in 1…64") }
        guard rate > 0, rate <= 1000 else { throw ValidationError("--rate must be in (0, 1000]") }
        guard maxLive >= 1 else { throw ValidationError("--max-live must be at least 1") }
        guard timeScale >= 1, timeScale <= 10_000 else { throw ValidationError("--time-scale must be in [1, 10000]") }
        guard adminEvery > 0 else { throw ValidationError("--admin-every must be positive") }
        let least = pruneSlack + 3 * killEvery + 30
        guard retentionSeconds >= least else {
            throw ValidationError("--retention must be at least \(Int(least.rounded(.up))) s with these settings "
                + "(time scale / 2 + 5 + 3 × kill interval + 30)")
        }
    }

    mutating func run() throws {
        SoakDaemon.killOnSignals()
        SoakDaemon.watchdog(deadline: monotonicSeconds() + minutes * 60 + 600)
        let daemon = try SoakDaemon(timeScale: timeScale, retentionSeconds: retentionSeconds)
        defer { daemon.cleanUp() }
        var soak = SoakRun(options: self, daemon: daemon)
        let problems = soak.run()
        let failures = SoakReport(options: self, run: soak).print(problems: problems)
        if !failures.isEmpty { throw ExitCode(1) }
    }
}
