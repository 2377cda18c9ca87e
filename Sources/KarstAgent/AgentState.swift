import Foundation
import KarstProtocol

/// One run as the agent keeps it: started under a process group, maybe ended, maybe reported.
public struct AgentRun: Codable, Hashable, Sendable {
    public var job: String
    public var attempt: Int
    public var pgid: Int32
    /// The backend's id for it where that is not a process group (a Slurm job id).
    public var handle: String?
    /// The site's id for it, as reported with its start (`pgid N`, `slurm job N`).
    public var siteID: String?
    /// The limits it runs under, as reported with its start.
    public var limits: String?
    /// Asked to stop (SIGTERM sent): the message its end will carry, and when SIGKILL follows
    /// (monotonic seconds).
    public var stopMessage: String?
    /// Killed by the agent's fence (reported as such: the job is requeued, not failed).
    public var fenced = false
    public var stopDeadline: Double?
    public var startReported = false
    public var ended = false
    public var exitStatus: Int?
    public var message: String?
    /// Only in a `runs.json` an older agent wrote (reported ends are tombstones now, `ended.log`):
    /// read once, at start, to move them there.
    public var endReported = false

    public var isRunning: Bool { !ended }

    public static func key(_ job: String, _ attempt: Int) -> String { "\(job).\(attempt)" }

    /// A lease this agent will not run (it could not start, or was stopped first): ended, its
    /// end owed to the daemon.
    static func neverStarted(_ lease: WireLease, message: String) -> AgentRun {
        AgentRun(job: lease.job, attempt: lease.attempt, pgid: 0, startReported: true, ended: true, message: message)
    }
}

/// The agent's state: `runs.json` in its state directory, the runs it has not finished with
/// (running, or ended with the end not yet reported), written atomically after each turn that
/// changed it; and `ended.log`, one line per run whose end the daemon took (`JOB.ATTEMPT` and the
/// Unix time), appended as they are reported and kept a day, so a late lease of a finished run
/// is never started again. Keeping the tombstones out of `runs.json` keeps each save as small as
/// what runs now.
enum AgentState {
    static func load(_ directory: String) throws -> [String: AgentRun] {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        guard let data = FileManager.default.contents(atPath: directory + "/runs.json") else { return [:] }
        do {
            let runs = try JSONDecoder().decode([AgentRun].self, from: data)
            return Dictionary(runs.map { (AgentRun.key($0.job, $0.attempt), $0) }, uniquingKeysWith: { a, _ in a })
        } catch {
            throw AgentFailure.state("\(directory)/runs.json is unreadable: \(error)")
        }
    }

    /// Writes `runs` unless they encode to `previous`; returns what was written (or `previous`).
    static func save(_ runs: [String: AgentRun], to directory: String, unless previous: Data?) throws -> Data {
        let data = try JSONEncoder().encode(runs.keys.sorted().map { runs[$0]! })
        if data == previous { return data }
        try data.write(to: URL(fileURLWithPath: directory + "/runs.json"), options: .atomic)
        return data
    }

    /// The largest leader epoch the agent was leased under (`epoch`), if any (`KnownEpoch`).
    static func loadEpoch(_ directory: String) throws -> UInt64? {
        let path = directory + "/epoch"
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8),
              let epoch = UInt64(text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw AgentFailure.state("\(path) is unreadable (it holds the largest leader epoch this agent was leased under: "
                + "remove it only if no replica can be older than the hub's current leader)")
        }
        return epoch
    }

    /// Records a larger epoch: a new file, synced, renamed over the old (never half written, and
    /// on disk before the agent acts on that leader's leases).
    static func saveEpoch(_ epoch: UInt64, to directory: String) throws {
        let path = directory + "/epoch"
        let fd = open(path + ".tmp", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        let bytes = Array("\(epoch)\n".utf8)
        let written = fd >= 0 ? bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } : -1
        let synced = fd >= 0 && written == bytes.count && fsync(fd) == 0
        if fd >= 0 { close(fd) }
        guard synced, rename(path + ".tmp", path) == 0 else {
            throw AgentFailure.state("cannot record leader epoch \(epoch) in \(path): \(String(cString: strerror(errno)))")
        }
        let dir = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dir >= 0 {
            _ = fsync(dir)
            close(dir)
        }
    }

    static let tombstoneSeconds = 86_400.0

    /// The tombstones younger than a day (the file rewritten without the older ones).
    static func loadTombstones(_ directory: String) -> [String: Double] {
        let path = directory + "/ended.log"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [:] }
        let since = Date().timeIntervalSince1970 - tombstoneSeconds
        var out: [String: Double] = [:]
        for line in text.split(separator: "\n") {
            let f = line.split(separator: " ")
            guard f.count == 2, let t = Double(f[1]), t >= since else { continue }
            out[String(f[0])] = t
        }
        let kept = out.sorted { $0.value < $1.value }.map { "\($0.key) \($0.value)\n" }.joined()
        if kept.utf8.count != text.utf8.count { try? kept.write(toFile: path, atomically: true, encoding: .utf8) }
        return out
    }

    /// Appends tombstones (one write).
    static func appendTombstones(_ keys: [String], at time: Double, to directory: String) throws {
        guard !keys.isEmpty else { return }
        let path = directory + "/ended.log"
        if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
        guard let handle = FileHandle(forWritingAtPath: path) else { throw AgentFailure.state("cannot append to \(path)") }
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(keys.map { "\($0) \(time)\n" }.joined().utf8))
    }
}
