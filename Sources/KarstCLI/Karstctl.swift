import ArgumentParser
import KarstClient
import KarstProtocol

#if canImport(Glibc)
import Glibc
#endif

/// `karstctl`: the command-line client of `karstd`.
public struct Karstctl: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "karstctl",
        abstract: "Submit, follow and operate work on a Karst scheduler (karstd).",
        discussion: """
            Talks Varlink to karstd's control socket: --socket PATH, else $KARST_SOCKET, else \
            /run/karst/karstd.sock, $XDG_RUNTIME_DIR/karst/karstd.sock or ./.karst/run/karstd.sock \
            (the first that exists).

            Exit status: 0 success; 1 the daemon refused the call (the Varlink error is printed); \
            64 bad usage; 69 the daemon cannot be reached; 76 the daemon's reply could not be read.
            Shell completion: karstctl --generate-completion-script bash|zsh|fish.
            """,
        version: version,
        subcommands: [
            Submit.self, Get.self, List.self, Cancel.self, Hold.self, Release.self, Complete.self, Watch.self,
            Top.self, Topology.self, Agents.self, Drain.self, Resume.self, Offline.self, Stats.self, Metrics.self, Reload.self, Backup.self,
            Info.self,
            ExportTrace.self, LoadTrace.self,
        ])

    static let version = "0.2.0"

    public init() {}

    /// The fast path first (FastPath.swift), then ArgumentParser for everything it declines.
    public static func main() {
        if getenv("KARSTCTL_NO_FAST_PATH") == nil, let status = FastPath.run(CommandLine.arguments.dropFirst()) {
            Glibc.exit(status)
        }
        main(nil)
    }
}

/// Options every command takes.
struct Connection: ParsableArguments {
    @Option(help: ArgumentHelp("The daemon's control socket.", valueName: "PATH"))
    var socket: String?

    var daemon: Daemon { Daemon(socket: socket) }
    func open() throws -> VarlinkConnection { try daemon.open() }
    func call(_ method: String, _ parameters: JSONObject = [:]) throws -> JSONObject { try daemon.call(method, parameters) }
}

/// Where the daemon is and how to call it (plain values: the fast path has no ArgumentParser).
struct Daemon {
    var socket: String?

    var path: String {
        if let socket { return socket }
        if let env = getenv("KARST_SOCKET") { return String(cString: env) }
        var candidates = ["/run/karst/karstd.sock"]
        if let xdg = getenv("XDG_RUNTIME_DIR") { candidates.append(String(cString: xdg) + "/karst/karstd.sock") }
        candidates.append(".karst/run/karstd.sock")
        return candidates.first { access($0, F_OK) == 0 } ?? candidates.last!
    }

    func open() throws -> VarlinkConnection {
        do { return try VarlinkConnection(path: path) } catch {
            throw Failure.unreachable(error.description)
        }
    }

    /// One call; Varlink and connection errors become a `Failure` with the right exit status.
    func call(_ method: String, _ parameters: JSONObject = [:]) throws -> JSONObject {
        let c = try open()
        defer { c.close() }
        return try Failure.map { try c.call(method, parameters) }
    }

    /// One call whose parameters are written straight into the frame (a loop's calls: no JSON
    /// tree built to be written).
    func call<P: WireValue>(_ method: String, parameters: P) throws -> JSONObject {
        let c = try open()
        defer { c.close() }
        return try Failure.map { try c.call(method, parameters: parameters) }
    }
}

/// `--json` for read commands.
struct OutputOptions: ParsableArguments {
    @Flag(help: "Print the daemon's reply as JSON.")
    var json = false
}

/// A command failure with its documented exit status.
enum Failure: Error, CustomStringConvertible {
    case refused(VarlinkError)
    case unreachable(String)
    case malformed(String)

    static func map<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let e as VarlinkError {
            throw Failure.refused(e)
        } catch let e as ClientError {
            if case .malformed(let m) = e { throw Failure.malformed(m) }
            throw Failure.unreachable(e.description)
        }
    }

    var exitCode: Int32 {
        switch self {
        case .refused: 1
        case .unreachable: 69
        case .malformed: 76
        }
    }

    var description: String {
        switch self {
        case .refused(let e): "\(e.name): \(explain(e))"
        case .unreachable(let m): "karstd is not reachable: \(m)"
        case .malformed(let m): "could not read karstd's reply: \(m)"
        }
    }
}

/// Runs a command body, printing failures as `karstctl: NAME: sentence` with their exit status.
func run(_ body: () throws -> Void) throws {
    do { try body() } catch let f as Failure {
        printErr("karstctl: \(f)")
        throw ExitCode(f.exitCode)
    }
}

/// A sentence for each error a user can meet.
func explain(_ e: VarlinkError) -> String {
    let p = e.parameters
    func s(_ k: String) -> String { p[k]?.stringValue ?? (p[k]?.numberValue.map { String(Int($0)) } ?? "?") }
    switch e.name {
    case "io.karst.Scheduler.NoSuchJob": return "no job has the id \(s("id"))."
    case "io.karst.Scheduler.InvalidJob": return "the job is invalid: \(s("field")): \(s("reason"))."
    case "io.karst.Scheduler.QuotaExceeded": return "tenant \(s("tenant")) has no quota for this much \(s("resource"))."
    case "io.karst.Scheduler.InvalidTransition": return "\(s("id")) is \(s("state")); that does not apply to it."
    case "io.karst.Scheduler.StorageUnavailable": return "the daemon cannot store this now: \(s("reason")). Nothing was accepted; retry."
    case "io.karst.Scheduler.Unschedulable": return "no data centre could ever run this job: \(s("reason"))."
    case "io.karst.Admin.NoSuchDatacenter": return "there is no data centre \(s("datacenter"))."
    case "io.karst.Admin.InvalidConfig": return "the configuration was not reloaded: \(s("reason")). The previous one stays in force."
    case "org.varlink.service.PermissionDenied": return "you are not allowed to do this (see [access] in the daemon's configuration)."
    case "org.varlink.service.InvalidParameter": return "the parameter \(s("parameter")) is missing or malformed."
    case "org.varlink.service.MethodNotFound": return "the daemon does not know \(s("method")) (is it an older version?)."
    case "org.varlink.service.MethodNotImplemented": return "the daemon does not implement \(s("method")) yet."
    case "org.varlink.service.InterfaceNotFound": return "the daemon does not serve \(s("interface"))."
    case "io.karst.Protocol.TooManyConnections": return "the daemon serves its limit of \(s("limit")) connections; retry later."
    case "io.karst.Protocol.SlowConsumer": return "the watch fell \(s("behind")) events behind and was ended."
    case "io.karst.Protocol.NotLeader":
        guard let n = ProtocolInterface.NotLeader(e), n.leader != nil else {
            return "this replica is a standby and no replica leads yet; retry."
        }
        return n.explanation + (n.address.map { ", e.g. --socket \($0)." } ?? ".")
    default: return p.isEmpty ? "the call failed." : String(decoding: JSONValue.object(p).encoded, as: UTF8.self)
    }
}

func printErr(_ text: String) {
    let bytes = Array((text + "\n").utf8)
    _ = bytes.withUnsafeBytes { Glibc.write(2, $0.baseAddress, $0.count) }
}
