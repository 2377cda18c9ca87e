import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A real single-node Slurm for tests and benchmarks (Debian's slurm-wlm and munge, which the
/// Makefile installs): munged, slurmctld and slurmd started as plain processes on 127.0.0.1 with
/// their own configuration, key, ports and state directory, and stopped by pid. Commands run
/// against it with `environment` (`SLURM_CONF`).
public final class SlurmCluster: @unchecked Sendable {
    public let dir: String
    public var conf: String { dir + "/slurm.conf" }
    public var environment: [String: String] { ["SLURM_CONF": conf] }

    /// Whether this machine can run one (root, and the daemons installed).
    public static var possible: Bool {
        getuid() == 0 && ["/usr/sbin/slurmctld", "/usr/sbin/slurmd", "/usr/sbin/munged", "/usr/bin/sbatch"].allSatisfy {
            FileManager.default.isExecutableFile(atPath: $0)
        }
    }

    /// Starts the three daemons; `cpus` and `memoryMiB` are the node's, as configured (slurmd
    /// takes them over the hardware it finds: `config_overrides`).
    public init(cpus: Int = 2, memoryMiB: Int = 4096) throws {
        dir = TemporaryDirectories.make(prefix: "slurm")
        for sub in ["ctld", "d"] { try FileManager.default.createDirectory(atPath: dir + "/" + sub, withIntermediateDirectories: true) }
        chmod(dir, 0o700)
        var key = [UInt8](repeating: 0, count: 1024)
        for i in key.indices { key[i] = UInt8.random(in: 0...255) }
        _ = FileManager.default.createFile(atPath: dir + "/munge.key", contents: Data(key), attributes: [.posixPermissions: 0o400])
        // Ports of its own, so a leftover cluster of another run cannot answer.
        let port = Int.random(in: 20_000...29_000)
        // MaxJobCount: a benchmark's loops submit more jobs than Slurm's default 10,000 keeps
        // within MinJobAge (ended jobs count too), and sbatch would be refused.
        try """
            ClusterName=karsttest
            SlurmctldHost=localhost(127.0.0.1)
            SlurmctldPort=\(port)
            SlurmdPort=\(port + 1)
            AuthType=auth/munge
            AuthInfo=socket=\(dir)/munge.sock
            CredType=cred/munge
            SlurmUser=root
            SlurmdUser=root
            StateSaveLocation=\(dir)/ctld
            SlurmdSpoolDir=\(dir)/d
            SlurmctldPidFile=\(dir)/ctld.pid
            SlurmdPidFile=\(dir)/d.pid
            SlurmctldLogFile=\(dir)/ctld.log
            SlurmdLogFile=\(dir)/d.log
            ProctrackType=proctrack/linuxproc
            TaskPlugin=task/none
            JobAcctGatherType=jobacct_gather/none
            AccountingStorageType=accounting_storage/none
            JobCompType=jobcomp/none
            SchedulerType=sched/builtin
            SelectType=select/cons_tres
            SelectTypeParameters=CR_Core_Memory
            MpiDefault=none
            ReturnToService=2
            KillWait=2
            MaxJobCount=200000
            SlurmdParameters=config_overrides
            NodeName=localhost NodeAddr=127.0.0.1 CPUs=\(cpus) RealMemory=\(memoryMiB) State=UNKNOWN
            PartitionName=batch Nodes=localhost Default=YES MaxTime=INFINITE State=UP

            """.write(toFile: conf, atomically: true, encoding: .utf8)
        // Each daemonizes and writes its pid file: they are stopped by those pids (their being
        // nobody's child here keeps them out of Foundation's process bookkeeping).
        try start("/usr/sbin/munged", ["--force", "--key-file=\(dir)/munge.key", "--socket=\(dir)/munge.sock",
                                       "--pid-file=\(dir)/munged.pid", "--log-file=\(dir)/munged.log",
                                       "--seed-file=\(dir)/munge.seed"])
        try start("/usr/sbin/slurmctld", ["-f", conf])
        try start("/usr/sbin/slurmd", ["-f", conf, "-N", "localhost"])
    }

    /// Runs a daemon's launcher (which forks the daemon and exits) with posix_spawn and waits for
    /// it by pid: Foundation's Process lost track of such launchers here.
    private func start(_ path: String, _ args: [String]) throws {
        let env = ProcessInfo.processInfo.environment.merging(environment) { $1 }.map { "\($0.key)=\($0.value)" }
        let status = Spawn.wait(try Spawn.start(path, args, environment: env))
        guard status == 0 else { throw Failure(what: "\(path) exited with wait status \(status)") }
    }

    /// Why the cluster could not start.
    public struct Failure: Error, CustomStringConvertible {
        public var what: String
        public var description: String { "Slurm: \(what)" }
    }

    /// The daemons' pids, from their pid files.
    public var pids: [Int32] {
        ["d.pid", "ctld.pid", "munged.pid"].compactMap {
            (try? String(contentsOfFile: dir + "/" + $0, encoding: .utf8)).flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        }
    }

    /// Runs a Slurm command (`/usr/bin/TOOL`) against this cluster; its standard output.
    public func run(_ tool: String, _ args: [String]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/" + tool)
        p.arguments = args
        p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    /// Whether the node takes jobs.
    public func ready() -> Bool { ((try? run("sinfo", ["--noheader", "--format", "%T"])) ?? "").contains("idle") }

    /// Waits up to `seconds` for the node to take jobs.
    public func waitReady(seconds: Double = 30) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if ready() { return true }
            usleep(100_000)
        }
        return ready()
    }

    /// The ids Slurm knows for a job name.
    public func ids(named name: String) throws -> [String] {
        try run("squeue", ["--states=all", "--noheader", "--name", name, "--format", "%i"])
            .split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// Stops them by pid (SIGKILL: a test runner may hand them a signal mask that delays a polite
    /// stop), then whatever they started that is left (slurmctld's script helper, a job's
    /// processes: everything naming this cluster's directory).
    public func stop() {
        for pid in pids where pid > 1 { kill(pid, SIGKILL) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/pkill")
        p.arguments = ["-KILL", "-f", dir]
        if (try? p.run()) != nil { p.waitUntilExit() }
    }

    /// The tails of slurmctld's and slurmd's logs.
    public func logs() -> String {
        ["ctld.log", "d.log"].map { ((try? String(contentsOfFile: dir + "/" + $0, encoding: .utf8)) ?? "").suffix(2000) }
            .joined(separator: "\n---\n")
    }
}
