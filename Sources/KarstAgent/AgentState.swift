import Foundation
import KarstProtocol

/// One run as the agent keeps it: started under a process group, maybe ended, maybe reported.
struct AgentRun: Codable, Hashable {
    var job: String
    var attempt: Int
    var pgid: Int32
    /// The limits it runs under, as reported with its start.
    var limits: String?
    /// Asked to stop (SIGTERM sent): the message its end will carry, and when SIGKILL follows
    /// (monotonic seconds).
    var stopMessage: String?
    /// Killed by the agent's fence (reported as such: the job is requeued, not failed).
    var fenced = false
    var stopDeadline: Double?
    var startReported = false
    var ended = false
    var exitStatus: Int?
    var message: String?
    var endReported = false
    /// When its end was reported (Unix seconds): tombstones are kept a day.
    var reportedAt: Double?

    var isRunning: Bool { !ended }

    static func key(_ job: String, _ attempt: Int) -> String { "\(job).\(attempt)" }

    /// A lease this agent will not run (it could not start, or was stopped first): ended, its
    /// end owed to the daemon.
    static func neverStarted(_ lease: WireLease, message: String) -> AgentRun {
        AgentRun(job: lease.job, attempt: lease.attempt, pgid: 0, startReported: true, ended: true, message: message)
    }
}

/// The agent's state file (`runs.json` in its state directory), written atomically after each
/// turn that changed it.
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

    static func save(_ runs: [String: AgentRun], to directory: String) throws {
        let data = try JSONEncoder().encode(runs.keys.sorted().map { runs[$0]! })
        let path = directory + "/runs.json"
        if FileManager.default.contents(atPath: path) == data { return }
        try data.write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}
