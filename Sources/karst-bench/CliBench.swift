import ArgumentParser
import Foundation
import KarstTesting

/// `karst-bench cli`: what a user's shell loop costs, one process per call — `karstctl` beside
/// `systemctl` and (with --slurm) `sbatch`/`squeue` of a single-node Slurm started for the run.
/// Each command's calls are interleaved with the others' (round robin), so the machine's noise
/// falls on all of them alike; CPU is the child's user + system time from `wait4`, page faults its
/// minor faults (each page of code or data it touches first: on a virtual machine they cost more
/// than most of the code they map).
struct CliBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cli",
        abstract: "Process-per-call cost of karstctl (CPU, wall, loop rates) beside systemctl and Slurm's CLI.",
        discussion: """
            Starts the release karstd built beside this binary (state in a temporary directory with \
            --durable, else --ephemeral) and uses the karstctl beside it (the one `make install` \
            installs), or --karstctl PATH, dropped from the page cache first so that it is read from \
            disk as after a boot.
            """)

    @Option(help: "Calls per command for the per-call figures (interleaved).") var runs = 300
    @Option(help: "Calls in each shell-loop rate measurement.") var loop = 1000
    @Option(help: "Rounds of the shell loops, karstctl's and sbatch's taking turns (each round in the other order); the ratio given is that of the median rates.")
    var rounds = 3
    @Option(help: "Jobs present for the list measurement.") var listJobs = 1000
    @Option(help: ArgumentHelp("The karstctl to measure.", valueName: "PATH")) var karstctl: String?
    @Flag(help: "Also measure sbatch and squeue against a Slurm started for the run.") var slurm = false
    @Flag(help: "The daemon persists its state (every acknowledged submit committed).") var durable = false

    func validate() throws {
        guard rounds >= 1 else { throw ValidationError("--rounds must be at least 1, not \(rounds)") }
    }

    func run() throws {
        let here = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent().path
        let (socket, started) = try SocketBench.parse(durable ? ["--durable"] : []).socketPath()
        guard let daemon = started else { throw ValidationError("no daemon was started") }
        defer {
            daemon.terminate()
            daemon.waitUntilExit()
            try? FileManager.default.removeItem(atPath: (socket as NSString).deletingLastPathComponent)
        }
        let ctl = karstctl ?? here + "/karstctl"
        print("karstctl: \(ctl) (\(Self.linkage(ctl)), read from disk)")
        // karstctl's pages are measured as a file read from disk has them in the page cache (as
        // after a boot): how the file came into the cache (written by the linker through a memory
        // map, copied, read) changes how many pages each fault maps, by a tenth either way.
        try Self.evictFromPageCache(ctl)
        let env = ["KARST_SOCKET=" + socket]
        let submit = Cmd(ctl, ["submit", "--origin", "gba", "--class", "batch", "--cpu", "0.001", "--memory", "0.001"], env)
        print("karstd:   pid \(daemon.processIdentifier), \(durable ? "durable" : "ephemeral")\n")

        var cluster: SlurmCluster? = nil
        if slurm {
            guard SlurmCluster.possible else { throw ValidationError("--slurm: slurmctld, slurmd and munged are not installed") }
            let c = try SlurmCluster(cpus: 2, memoryMiB: 2048)
            guard c.waitReady() else { throw ValidationError("Slurm did not become ready: \(c.dir)") }
            cluster = c
        }
        defer { cluster?.stop() }

        // Empty lists first, before anything is submitted.
        var empty: [(String, Cmd)] = [("karstctl list (empty)", Cmd(ctl, ["list"], env))]
        if let c = cluster {
            _ = try c.run("scancel", ["--user", "root"])
            empty.append(("squeue (empty)", Cmd("/usr/bin/squeue", [], Self.slurmEnv(c))))
        }
        try report("Lists", empty)

        // Per call, the machine's noise spread over all commands alike.
        var cmds: [(String, Cmd)] = [("karstctl --version", Cmd(ctl, ["--version"], env))]
        if FileManager.default.isExecutableFile(atPath: "/bin/systemctl") {
            cmds.append(("systemctl --version", Cmd("/bin/systemctl", ["--version"], [])))
        }
        cmds.append(("karstctl submit", submit))
        if let c = cluster { cmds.append(("sbatch", Self.sbatch(c))) }
        try report("\nOne call at a time (\(runs) calls each, interleaved)", cmds)

        // Lists of listJobs jobs each (Slurm's held so they stay pending, submitted one by one
        // so squeue shows one line each, as karstctl does).
        let fill = Cmd(ctl, ["submit", "--origin", "gba", "--class", "batch", "--cpu", "0.001", "--memory", "0.001",
                             "--array", String(listJobs)], env)
        _ = try fill.measure()
        var lists: [(String, Cmd)] = [("karstctl list (\(listJobs) jobs)", Cmd(ctl, ["list", "--limit", String(listJobs)], env))]
        if let c = cluster {
            _ = try c.run("scancel", ["--user", "root"])
            let held = Cmd("/usr/bin/sbatch", ["--hold", "--output", "/dev/null", "--wrap", "/bin/true"], Self.slurmEnv(c))
            for _ in 0..<listJobs { _ = try held.measure() }
            lists.append(("squeue (\(listJobs) pending)", Cmd("/usr/bin/squeue", [], Self.slurmEnv(c))))
        }
        try report("\nLists, full", lists)
        if let c = cluster { _ = try c.run("scancel", ["--user", "root"]) }

        // Whole loops taking turns, round after round: a machine whose speed drifts during the
        // sitting (a shared one does) then weighs on both commands' rates alike, and the rounds
        // show how far one loop's ratio moves. The loops are this program's (posix_spawn, then
        // wait), and a bash `for` loop's (bash forks, the child execs the command).
        print("\nShell loops (\(loop) submits, one process each; \(rounds) rounds, the commands taking turns):")
        var loops: [(String, Cmd)] = [("karstctl submit", submit)]
        if let c = cluster { loops.append(("sbatch", Self.sbatch(c))) }
        let kinds: [(String, (Cmd) throws -> Double)] = [
            ("1 loop", { try Self.loopRate($0, calls: loop, parallel: 1) }),
            ("4 loops", { try Self.loopRate($0, calls: loop, parallel: 4) }),
            ("bash", { try Self.bashLoopRate($0, calls: loop) }),
        ]
        var summary: [String] = []
        for (kind, rate) in kinds {
            var rates = Array(repeating: [Double](), count: loops.count)
            for round in 0..<rounds {
                // Each round in the other order: a steady drift favours neither command.
                let turns = round % 2 == 0 ? Array(loops.indices) : loops.indices.reversed()
                for i in turns { rates[i].append(try rate(loops[i].1)) }
            }
            for (i, (name, _)) in loops.enumerated() {
                print("  \(pad(name, 18)) \(pad(kind, 8)) median \(Int(median(rates[i]))) calls/s  (rounds: "
                      + rates[i].map { String(Int($0)) }.joined(separator: ", ") + ")")
            }
            if loops.count == 2 {
                let each = zip(rates[0], rates[1]).map { String(format: "%.2f×", $0 / $1) }.joined(separator: ", ")
                summary.append(String(format: "%.2f× ", median(rates[0]) / median(rates[1])) + "(\(kind); rounds \(each))")
            }
        }
        if !summary.isEmpty { print("  karstctl submit / sbatch: " + summary.joined(separator: ", ")) }
    }

    func report(_ title: String, _ cmds: [(String, Cmd)]) throws {
        var cpu = Array(repeating: [Double](), count: cmds.count)
        var wall = cpu, faults = cpu
        for _ in 0..<runs {
            for (i, (_, c)) in cmds.enumerated() {
                let m = try c.measure()
                cpu[i].append(m.cpu)
                wall[i].append(m.wall)
                faults[i].append(Double(m.pageFaults))
            }
        }
        print("\(title):")
        print("  \(pad("command", 30))  CPU p50    CPU p99    wall p50   wall p99   page faults p50")
        for (i, (name, _)) in cmds.enumerated() {
            let c = cpu[i].sorted(), w = wall[i].sorted()
            print("  \(pad(name, 30))  " + [c, c, w, w].enumerated().map { j, s in
                pad(String(format: "%.2f ms", percentile(s, j % 2 == 0 ? 0.5 : 0.99) * 1000), 9)
            }.joined(separator: "  ") + "  " + String(Int(percentile(faults[i].sorted(), 0.5))))
        }
    }

    /// What a user's loop runs: a job that runs (`/bin/true`), its output discarded.
    static func sbatch(_ c: SlurmCluster) -> Cmd {
        Cmd("/usr/bin/sbatch", ["--output", "/dev/null", "--wrap", "/bin/true"], slurmEnv(c))
    }

    static func slurmEnv(_ c: SlurmCluster) -> [String] { c.environment.map { "\($0.key)=\($0.value)" } }

    /// Calls per second of the same calls from a bash `for` loop: bash forks, and the child
    /// execs the command (what a user's script pays, beside this program's posix_spawn).
    static func bashLoopRate(_ cmd: Cmd, calls: Int) throws -> Double {
        let script = "for ((i = 0; i < \(calls); i++)); do \"$0\" \"$@\" > /dev/null || exit 1; done"
        let bash = Cmd("/bin/bash", ["-c", script, cmd.path] + cmd.args, cmd.env)
        return Double(calls) / (try bash.measure()).wall
    }

    /// Calls per second of `parallel` loops running `calls` calls between them.
    static func loopRate(_ cmd: Cmd, calls: Int, parallel: Int) throws -> Double {
        let start = monotonicSeconds()
        let errors = Counter(0)
        DispatchQueue.concurrentPerform(iterations: parallel) { p in
            for _ in 0..<(calls / parallel) where (try? cmd.measure()) == nil { errors.add(1) }
        }
        guard errors.value == 0 else { throw ValidationError("\(errors.value) calls of \(cmd.path) failed") }
        return Double(calls / parallel * parallel) / (monotonicSeconds() - start)
    }

    /// Writes `path` out and drops it from the page cache, so that its next use reads it from
    /// disk.
    static func evictFromPageCache(_ path: String) throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw ValidationError("\(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw ValidationError("\(path): fsync: \(String(cString: strerror(errno)))") }
        let rc = posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED)
        guard rc == 0 else { throw ValidationError("\(path): cannot drop it from the page cache: \(String(cString: strerror(rc)))") }
    }

    static func linkage(_ path: String) -> String {
        guard let f = fopen(path, "r") else { return "?" }
        defer { fclose(f) }
        var header = [UInt8](repeating: 0, count: 64)
        _ = fread(&header, 1, 64, f)
        // ELF e_type at byte 16: 2 = EXEC (position-dependent), 3 = DYN (PIE or shared).
        return header[16] == 2 ? "position-dependent executable" : "position-independent executable"
    }
}


/// A tiny atomic counter for the loops.
private final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var n: Int
    init(_ n: Int) { self.n = n }
    func add(_ d: Int) { lock.lock(); n += d; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return n }
}

/// One command line, run by posix_spawn with its output to /dev/null. Its argument and
/// environment vectors and file actions are built once, so that a loop of calls measures the
/// calls, not the building of what they are given. Nothing in it changes after `init`: the
/// parallel loops only read it (posix_spawn takes all three as constant).
final class Cmd: @unchecked Sendable {
    let path: String
    let args: [String]
    /// What the command's environment adds to this process's (`NAME=value`).
    let env: [String]
    private let program: UnsafeMutablePointer<CChar>
    private let argv: [UnsafeMutablePointer<CChar>?]
    private let envp: [UnsafeMutablePointer<CChar>?]
    private let actions: UnsafeMutablePointer<posix_spawn_file_actions_t>

    /// `env` (`NAME=value`) is added to this process's environment, replacing what it names.
    init(_ path: String, _ args: [String], _ env: [String]) {
        self.path = path
        self.args = args
        self.env = env
        program = strdup(path)
        argv = [program] + args.map { strdup($0) } + [nil]
        let replaced = Set(env.map { String($0.prefix { $0 != "=" }) })
        let base = ProcessInfo.processInfo.environment.filter { !replaced.contains($0.key) }.map { "\($0.key)=\($0.value)" }
        envp = (env + base).map { strdup($0) } + [nil]
        actions = .allocate(capacity: 1)
        posix_spawn_file_actions_init(actions)
        posix_spawn_file_actions_addopen(actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(actions, 2, "/dev/null", O_WRONLY, 0)
    }

    deinit {
        posix_spawn_file_actions_destroy(actions)
        actions.deallocate()
        for p in argv + envp { free(p) }
    }

    /// One run: the child's CPU seconds, the wall seconds, the child's minor page faults.
    struct Sample {
        var cpu: Double
        var wall: Double
        var pageFaults: Int
    }

    /// Runs it once. Throws when it fails.
    func measure() throws -> Sample {
        let t = monotonicSeconds()
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, program, actions, nil, argv, envp)
        guard rc == 0 else { throw ValidationError("\(path): \(String(cString: strerror(rc)))") }
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 && errno == EINTR {}
        let wall = monotonicSeconds() - t
        guard status == 0 else { throw ValidationError("\(path) \(args.joined(separator: " ")) exited with wait status \(status)") }
        return Sample(cpu: usage.cpuSeconds, wall: wall, pageFaults: usage.ru_minflt)
    }
}
