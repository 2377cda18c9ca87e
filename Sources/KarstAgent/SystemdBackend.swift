import Foundation
import KarstProtocol

#if canImport(Glibc)
import Glibc
#endif

/// Runs each lease as a transient service of the host's systemd, started over D-Bus (sd-bus's
/// `StartTransientUnit`), named `karst-JOB-ATTEMPT.service`: the name is the idempotency key
/// (systemd refuses a second unit of one name; the agent also looks it up before starting).
///
/// The job's cores × replicas become `CPUQuotaPerSecUSec=`, its memory `MemoryMax=` (swap 0),
/// `TasksMax=` caps its processes, its expected duration × a margin bounds `RuntimeMaxSec=`, and
/// its output goes to the journal with `KARST_JOB`, `KARST_ATTEMPT` and `KARST_DATACENTER`
/// fields. Every unit is `Type=exec` (a command that cannot be executed fails the start) with
/// `RemainAfterExit=yes`, so a finished unit stays loaded (active/exited after success, failed
/// otherwise) with its `Result` and `ExecMainStatus` until the agent has reported its end
/// (`reported`), then is stopped or reset and unloads. The agent learns of changes from the
/// units' `PropertiesChanged` signals, and looks at every run every ten seconds besides (a
/// signal lost while the bus reconnected is not an end lost).
public final class SystemdBackend: RunBackend, @unchecked Sendable {
    public var name: String { "systemd" }
    public let stateDirectory: String
    /// The slice every run's unit goes into (the operator can cap them all there).
    public let slice: String
    /// `User=` of the runs' units (nil: the manager's default, root for the system manager).
    public let user: String?
    /// `RuntimeMaxSec=` is the expected duration × this, plus a minute.
    public let runtimeMargin: Double
    public let tasksMax: UInt64
    public let datacenter: String
    let userManager: Bool
    private var bus: SystemdBus?
    /// Object path → run key, for the runs this backend watches.
    private var paths: [String: String] = [:]
    private var lastFullLook = 0.0
    /// Object paths of units whose properties changed and that were not looked at since.
    private var changed = Set<String>()
    /// When each stopping unit was last looked at (`isGone`).
    private var lastLook: [String: Double] = [:]

    public init(stateDirectory: String, datacenter: String, slice: String = "karst.slice", user: String? = nil,
                runtimeMargin: Double = 1.5, tasksMax: UInt64 = 4096, userManager: Bool = false) throws {
        self.stateDirectory = stateDirectory
        self.datacenter = datacenter
        self.slice = slice
        self.user = user
        self.runtimeMargin = runtimeMargin
        self.tasksMax = tasksMax
        self.userManager = userManager
        _ = try connected()
    }

    public var limitsSummary: String {
        "systemd's (CPUQuota, MemoryMax, TasksMax \(tasksMax), RuntimeMaxSec = duration × \(runtimeMargin) + 60 s, in \(slice))"
    }
    public var keeperArguments: [String] { ["--systemd"] + (userManager ? ["--user-manager"] : []) }

    /// The run's unit name: `karst-JOB-ATTEMPT.service`, the job id escaped as systemd escapes
    /// (`\xNN` for anything but letters, digits, `:`, `_`, `.` and `-`).
    public static func unitName(job: String, attempt: Int) -> String {
        var escaped = ""
        for b in job.utf8 {
            let c = Character(Unicode.Scalar(b))
            if c.isASCII && (c.isLetter || c.isNumber || c == ":" || c == "_" || c == "-" || c == ".") {
                escaped.append(c)
            } else {
                escaped += String(format: "\\x%02x", b)
            }
        }
        return "karst-\(escaped)-\(attempt).service"
    }

    public func output(job: String, attempt: Int) -> String {
        "journalctl\(userManager ? " --user" : "") -u \(Self.unitName(job: job, attempt: attempt))"
    }

    /// The bus, connected again if the last call found it broken.
    private func connected() throws -> SystemdBus {
        if let bus { return bus }
        let b = try SystemdBus(user: userManager)
        try b.watchUnits()
        bus = b
        lastFullLook = 0  // signals may have been missed meanwhile
        return b
    }

    /// Runs `body` on the bus; a broken connection is dropped (the next call reconnects).
    private func onBus<T>(_ body: (SystemdBus) throws -> T) throws -> T {
        let b = try connected()
        do { return try body(b) } catch let e as BusError {
            if e.name == "System.Error" { bus = nil }
            throw e
        }
    }

    /// Called only after `startedBefore` found nothing (the agent asks it first); a unit of the
    /// name that appeared meanwhile is the same run (`UnitExists`).
    public func start(_ lease: WireLease) throws -> StartedRun {
        let unit = Self.unitName(job: lease.job, attempt: lease.attempt)
        let replicas = Double(max(1, lease.replicas))
        let cores = max(0.01, lease.cpu * replicas)
        let quota = UInt64(min((cores * 1_000_000).rounded(.up), 9e18))  // µs of CPU per second
        // Clamped: a pool may be as large as 10¹² GiB, beyond what a UInt64 of bytes holds.
        let memory = UInt64(min(max(1, lease.memoryGiB * replicas * 1_073_741_824).rounded(.up), 9e18))
        var env = ["PATH=/usr/local/bin:/usr/bin:/bin", "KARST_JOB=\(lease.job)", "KARST_ATTEMPT=\(lease.attempt)"]
        for (k, v) in (lease.environment ?? [:]).sorted(by: { $0.key < $1.key }) { env.append("\(k)=\(v)") }
        guard let program = Self.resolve(lease.command.first ?? "", environment: lease.environment) else {
            throw AgentFailure.spawn("\(lease.command.first ?? "(no command)") is not an executable on PATH (/usr/local/bin:/usr/bin:/bin)")
        }
        let fields: [String] = ["KARST_JOB=\(lease.job)", "KARST_ATTEMPT=\(lease.attempt)", "KARST_DATACENTER=\(datacenter)"]
        var properties: [(String, String, BusValue)] = [
            ("Description", "s", .string("Karst job \(lease.job), attempt \(lease.attempt)")),
            ("Type", "s", .string("exec")),
            ("RemainAfterExit", "b", .bool(true)),
            ("ExecStart", "a(sasb)", .array("(sasb)", [.structure("sasb", [.string(program), .strings(lease.command), .bool(false)])])),
            ("Environment", "as", .strings(env)),
            ("Slice", "s", .string(slice)),
            ("CPUQuotaPerSecUSec", "t", .uint64(quota)),
            ("MemoryMax", "t", .uint64(memory)),
            ("MemorySwapMax", "t", .uint64(0)),
            ("TasksMax", "t", .uint64(tasksMax)),
            ("TimeoutStopUSec", "t", .uint64(UInt64(SiteAgent.stopGrace * 1_000_000))),
            ("SyslogIdentifier", "s", .string("karst-\(lease.job)")),
            ("LogExtraFields", "aay", .array("ay", fields.map { .bytes(Array($0.utf8)) })),
        ]
        var limits = "systemd: CPUQuota=\(Self.percent(cores)) MemoryMax=\(memory) TasksMax=\(tasksMax)"
        if let seconds = lease.durationSeconds, seconds.isFinite, seconds > 0 {
            let bound = min(seconds * runtimeMargin + 60, 31_536_000)
            properties.append(("RuntimeMaxUSec", "t", .uint64(UInt64(bound * 1_000_000))))
            limits += " RuntimeMaxSec=\(Int(bound.rounded(.up)))"
        }
        if let w = lease.workingDirectory { properties.append(("WorkingDirectory", "s", .string(w))) }
        if let user { properties.append(("User", "s", .string(user))) }
        do {
            try onBus { bus in
                try bus.command("StartTransientUnit", [
                    .string(unit), .string("fail"),
                    .array("(sv)", properties.map { .structure("sv", [.string($0.0), .variant($0.1, $0.2)]) }),
                    .array("(sa(sv))", []),
                ])
            }
        } catch let e as BusError where e.name == "org.freedesktop.systemd1.UnitExists" {
            // Started before (a crash between the start and the state's save): the same run.
        } catch {
            throw AgentFailure.spawn("systemd refused \(unit): \(error)")
        }
        paths[SystemdBus.unitPath(unit)] = AgentRun.key(lease.job, lease.attempt)
        return StartedRun(pgid: 0, handle: unit, siteID: "unit \(unit)", limits: limits)
    }

    static func percent(_ cores: Double) -> String {
        let p = cores * 100
        return p == p.rounded() ? "\(Int(p))%" : String(format: "%.1f%%", p)
    }

    /// The executable `word` names: itself when it has a slash, else the first match on the
    /// job's `PATH` (or the default one).
    static func resolve(_ word: String, environment: [String: String]?) -> String? {
        guard !word.isEmpty else { return nil }
        if word.contains("/") { return word.hasPrefix("/") ? word : nil }
        let path = environment?["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(word)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    public func startedBefore(job: String, attempt: Int) -> StartedRun? {
        let unit = Self.unitName(job: job, attempt: attempt)
        let path = SystemdBus.unitPath(unit)
        guard let load = try? onBus({ try $0.string(path, "org.freedesktop.systemd1.Unit", "LoadState") }),
              load == "loaded" else { return nil }
        paths[path] = AgentRun.key(job, attempt)
        return StartedRun(pgid: 0, handle: unit, siteID: "unit \(unit)")
    }

    /// A unit's state, as far as a run's end goes.
    struct UnitState {
        var loaded: Bool
        var active: String
        var sub: String
        var result: String
        var code: Int32
        var status: Int32
        /// A job is queued for it: just started, its start not run yet (it is `inactive` then too).
        var pending = false

        /// Ran and will not run again: exited (kept by `RemainAfterExit`), failed, or stopped.
        var isOver: Bool {
            !loaded || (!pending && (active == "failed" || active == "inactive")) || (active == "active" && sub == "exited")
        }
    }

    func state(_ unit: String) throws -> UnitState {
        try onBus { bus in
            let path = SystemdBus.unitPath(unit)
            let unitIface = "org.freedesktop.systemd1.Unit", service = "org.freedesktop.systemd1.Service"
            let load = try bus.string(path, unitIface, "LoadState")
            guard load == "loaded" else { return UnitState(loaded: false, active: "inactive", sub: "dead", result: "", code: 0, status: 0) }
            let active = try bus.string(path, unitIface, "ActiveState")
            return UnitState(loaded: true, active: active,
                             sub: try bus.string(path, unitIface, "SubState"), result: try bus.string(path, service, "Result"),
                             code: try bus.int32(path, service, "ExecMainCode"), status: try bus.int32(path, service, "ExecMainStatus"),
                             pending: active == "inactive" || active == "failed" ? try bus.pendingJob(path) != 0 : false)
        }
    }

    /// A finished unit's end: its main process' exit status, else what killed it.
    func end(of unit: String, _ s: UnitState) -> RunEnd {
        guard s.loaded else { return RunEnd(message: "unit \(unit) is gone (unloaded before its end was seen); its end is unknown") }
        let fenced = FileManager.default.fileExists(atPath: Self.fenceMark(stateDirectory, unit))
        if fenced { return RunEnd(message: "killed: agent fenced (no contact with the daemon)", fenced: true) }
        let why: String? = switch s.result {
        case "timeout": "ran past RuntimeMaxSec (its expected duration × \(runtimeMargin) + 60 s)"
        case "oom-kill": "killed: out of memory (MemoryMax)"
        case "start-limit-hit", "resources": "systemd could not start it (\(s.result))"
        default: nil
        }
        switch s.code {
        case 1:  // CLD_EXITED
            if let why { return RunEnd(exitStatus: Int(s.status), message: "exit status \(s.status): \(why)") }
            return .exited(Int(s.status))
        case 2, 3:  // CLD_KILLED, CLD_DUMPED
            return RunEnd(message: "killed by signal \(s.status)" + (why.map { " (\($0))" } ?? ""))
        default:
            return RunEnd(message: why ?? "unit \(unit) ended without an exit status (\(s.result))")
        }
    }

    /// Where the fence keeper marks a unit it killed.
    static func fenceMark(_ stateDirectory: String, _ unit: String) -> String { "\(stateDirectory)/fenced-\(unit)" }

    /// Takes the signals that arrived: the runs' units they name are looked at next (the
    /// manager signals every unit's changes; only `karst-…` ones matter here).
    private func drainSignals() {
        guard let arrived = try? connected().takeChanged() else { return }
        changed.formUnion(arrived.filter { $0.hasPrefix(Self.runPathPrefix) && paths[$0] != nil })
    }

    /// The object paths of units named `karst-…`.
    static let runPathPrefix = SystemdBus.managerPath + "/unit/karst_2d"

    /// Looks at the runs whose units signalled a change, and at every run every ten seconds.
    public func ended(_ runs: [AgentRun], sweep: Bool) -> [String: RunEnd] {
        drainSignals()
        guard !runs.isEmpty else { return [:] }
        let now = monotonicSeconds()
        let full = now - lastFullLook >= 10
        if full { lastFullLook = now }
        // Between full looks, only the runs whose units signalled (no object path encoded for
        // the others); a full look also registers runs adopted from the state directory.
        let signalled: Set<String>? = full ? nil : Set(changed.compactMap { paths[$0] })
        guard signalled?.isEmpty != true else { return [:] }
        var out: [String: RunEnd] = [:]
        for run in runs {
            let key = AgentRun.key(run.job, run.attempt)
            guard let unit = run.handle, signalled?.contains(key) ?? true else { continue }
            let path = SystemdBus.unitPath(unit)
            paths[path] = key
            changed.remove(path)
            guard let s = try? state(unit), s.isOver else { continue }
            out[key] = end(of: unit, s)
        }
        return out
    }

    /// A stopping unit is looked at when it signalled a change, else twice a second.
    public func isGone(_ run: AgentRun) -> Bool {
        guard let unit = run.handle else { return true }
        drainSignals()
        let now = monotonicSeconds()
        let signalled = changed.remove(SystemdBus.unitPath(unit)) != nil
        guard signalled || now - (lastLook[unit] ?? 0) >= 0.5 else { return false }
        lastLook[unit] = now
        guard let s = try? state(unit) else { return false }
        if s.isOver { lastLook[unit] = nil }
        return s.isOver
    }

    /// Stops the unit: systemd sends SIGTERM, then SIGKILL after `TimeoutStopSec=` (the agent's
    /// stop grace).
    public func terminate(_ run: AgentRun) {
        guard let unit = run.handle else { return }
        _ = try? onBus { try $0.command("StopUnit", [.string(unit), .string("replace")]) }
    }

    public func kill(_ run: AgentRun) {
        guard let unit = run.handle else { return }
        _ = try? onBus { try $0.command("KillUnit", [.string(unit), .string("all"), .int32(SIGKILL)]) }
    }

    /// The unit stays loaded until its end is reported (`reported`).
    public func release(_ run: AgentRun) {}

    /// The end is reported: the unit is stopped (after success it is still active, exited) or
    /// its failure reset, and systemd unloads it.
    public func reported(_ run: AgentRun) {
        guard let unit = run.handle else { return }
        paths[SystemdBus.unitPath(unit)] = nil
        unlink(Self.fenceMark(stateDirectory, unit))
        _ = try? onBus { bus in
            try? bus.command("StopUnit", [.string(unit), .string("replace")])
            try? bus.command("ResetFailedUnit", [.string(unit)])
        }
    }

    /// The fence keeper's kill of a run's unit: marked first (the agent, if it comes back,
    /// reports the end as fenced), then SIGKILL to every process of the unit.
    static func killForFence(_ unit: String, stateDirectory: String, userManager: Bool) -> Bool {
        _ = FileManager.default.createFile(atPath: fenceMark(stateDirectory, unit), contents: nil)
        guard let bus = try? SystemdBus(user: userManager) else { return false }
        return (try? bus.command("KillUnit", [.string(unit), .string("all"), .int32(SIGKILL)])) != nil
    }
}
