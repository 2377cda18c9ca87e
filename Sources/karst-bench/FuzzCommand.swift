import ArgumentParser
import Foundation

/// `karst-bench fuzz`: a socket-level fuzzing campaign against the real release daemon.
struct FuzzBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fuzz",
        abstract: "Fuzz the control socket: mutated calls of every method, damaged bytes, a canary beside them.",
        discussion: """
            Without --socket, starts the release karstd built beside this binary on a temporary socket with a
            temporary state directory, and kills it at the end. Every frame is a valid call of a method the
            daemon serves (from the interface descriptions it serves), then mutated. Admin.Backup only ever
            names paths inside the campaign's temporary directory. Exits 1 if the daemon crashed, a reply was
            not a Varlink reply, or the canary (Ping, Submit, Get every 100 ms) waited more than 2 s.
            """)

    @Option(help: ArgumentHelp("Fuzz an already running daemon (it must know the built-in hub's names).", valueName: "PATH"))
    var socket: String?

    @Option(help: "Frames to send in all.")
    var frames = 1_000_000

    @Option(help: "Connections sending at once, each on its own thread.")
    var connections = 16

    @Option(help: "Seed of the frame generators.")
    var seed: UInt64 = 1

    @Option(help: "Frames per exchange (each exchange ends with a sync Ping).")
    var batch = 32

    @Option(help: "Stop after this many seconds even if frames remain.")
    var maxSeconds = 3600.0

    @Option(help: "Crashes after which the campaign stops (each one restarts the daemon from its state).")
    var maxCrashes = 3

    mutating func run() throws {
        var daemon = try socket.map { try FuzzDaemon.attach(socket: $0) } ?? FuzzDaemon.start(durable: true)
        var keep = false
        // The campaign's directory: the started daemon's (socket, state), else one of its own.
        let directory = socket == nil ? daemon.directory : NSTemporaryDirectory() + "karst-fuzz-\(getpid())"
        defer {
            daemon.stop()
            if !keep { try? FileManager.default.removeItem(atPath: directory) }
        }
        let backups = directory + "/backups"
        try FileManager.default.createDirectory(atPath: backups, withIntermediateDirectories: true)
        let templates = try FuzzTemplates.load(socket: daemon.socketPath, backupDirectory: backups)
        print("fuzzing karstd pid \(daemon.pid) on \(daemon.socketPath): \(frames) frames over \(connections) connections, seed \(seed)")
        print("Admin.Backup paths: only inside \(backups)")
        FuzzSelfCheck.run(templates, socket: daemon.socketPath, seed: seed).forEach { print($0) }
        fflush(nil)

        var report = FuzzReport()
        let until = fuzzClock() + maxSeconds
        while report.stats.frames < frames, fuzzClock() < until {
            let round = FuzzRound(daemon: daemon, templates: templates, connections: connections,
                                  frames: frames - report.stats.frames, seconds: until - fuzzClock(),
                                  seed: seed &+ UInt64(report.crashes.count) &* 7919, batchSize: batch).run()
            report.add(round)
            guard round.died else { break }
            keep = true
            var lines = ["daemon pid \(daemon.pid) CRASHED after \(report.stats.frames) frames: "
                + (daemon.crashMessage() ?? daemon.exitDescription)]
            lines += ["daemon stderr: \(daemon.logPath ?? "-"):"] + daemon.crashExcerpt().map { "  " + $0 }
            // A crashed daemon may linger (its backtracer runs, or hangs): end it before the socket is reused.
            daemon.stop()
            lines += FuzzCrash.save(round.workers, in: daemon.directory, crash: report.crashes.count + 1)
            report.crashes.append(lines)
            lines.forEach { print($0) }
            guard socket == nil, report.crashes.count < maxCrashes else { break }
            print("restarting the daemon from its state directory and going on")
            do { daemon = try FuzzDaemon.start(durable: true) } catch {
                report.crashes.append(["the daemon did not come back from its state: \(error)"])
                break
            }
        }
        report.finalCheck = daemon.isAlive ? FuzzCanary.probe(daemon.socketPath) : "the daemon is not running"
        report.daemonLog = daemon.log()
        report.jobs = daemon.isAlive ? FuzzCanary.jobCounts(daemon.socketPath) : "unknown"
        report.print()
        if !report.passed { throw ExitCode(1) }
    }
}
