import ArgumentParser
import KarstProtocol

struct Topology: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "topology", abstract: "Data centres and pools: capacity, use, state.")
    @OptionGroup var connection: Connection
    @OptionGroup var output: OutputOptions

    func run() throws {
        try KarstCLI.run {
            let reply = try connection.call("io.karst.Admin.Topology")
            if output.json { return printJSON(reply) }
            let dcs = try decodeList(reply, "datacenters", WireDatacenter.self)
            var rows = [["DATACENTER", "STATE", "POOL", "CAPACITY", "USED", "UTILISATION", "RUNNING"]]
            for dc in dcs {
                for (i, p) in dc.pools.enumerated() {
                    let c = p.capacity, a = p.allocated
                    var cap = "\(number(c.cpu)) cpu, \(number(c.memoryGiB)) GiB"
                    var used = "\(number(a.cpu)) cpu, \(number(a.memoryGiB)) GiB"
                    var share = max(c.cpu > 0 ? a.cpu / c.cpu : 0, c.memoryGiB > 0 ? a.memoryGiB / c.memoryGiB : 0)
                    if c.accelerators > 0 {
                        cap += ", \(c.accelerators) \(p.acceleratorModel ?? "acc")"
                        used += ", \(a.accelerators) acc"
                        share = max(share, Double(a.accelerators) / Double(c.accelerators))
                    }
                    rows.append([i == 0 ? dc.id : "", i == 0 ? dc.state : "", p.id, cap, used, bar(share), String(p.running)])
                }
            }
            print(table(rows))
        }
    }
}

/// Drain, resume and offline share their shape.
protocol DatacenterAction: ParsableCommand {
    static var method: String { get }
    var connection: Connection { get }
    var output: OutputOptions { get }
    var datacenter: String { get }
    /// Further parameters of the call.
    var extra: JSONObject { get }
}

extension DatacenterAction {
    var extra: JSONObject { [:] }

    func run() throws {
        try KarstCLI.run {
            var parameters = extra
            parameters["datacenter"] = .string(datacenter)
            let reply = try connection.call(Self.method, parameters)
            if output.json { return printJSON(reply) }
            let dc = try decode(reply, "datacenter", WireDatacenter.self)
            print("\(dc.id) \(dc.state)")
        }
    }
}

struct Drain: DatacenterAction {
    static let configuration = CommandConfiguration(
        commandName: "drain",
        abstract: "Stop new placements in a data centre; running jobs finish (or, with --stop-runs, are stopped and requeued).")
    static let method = "io.karst.Admin.Drain"
    @OptionGroup var connection: Connection
    @OptionGroup var output: OutputOptions
    @Argument(help: "Data centre id.") var datacenter: String
    @Flag(help: "Also end what runs there: modelled runs are requeued at once, site agents' runs once their agent confirms it stopped them.")
    var stopRuns = false

    var extra: JSONObject { stopRuns ? ["stopRuns": .bool(true)] : [:] }
}

struct Resume: DatacenterAction {
    static let configuration = CommandConfiguration(commandName: "resume", abstract: "Let a drained or offline data centre take work again.")
    static let method = "io.karst.Admin.Resume"
    @OptionGroup var connection: Connection
    @OptionGroup var output: OutputOptions
    @Argument(help: "Data centre id.") var datacenter: String
}

struct Offline: DatacenterAction {
    static let configuration = CommandConfiguration(commandName: "offline", abstract: "Mark a data centre down: its running jobs are requeued.")
    static let method = "io.karst.Admin.SetOffline"
    @OptionGroup var connection: Connection
    @OptionGroup var output: OutputOptions
    @Argument(help: "Data centre id.") var datacenter: String
}

struct Stats: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "stats", abstract: "Queue depth by class, running jobs, placement rate, fair share.")
    @OptionGroup var connection: Connection
    @OptionGroup var output: OutputOptions

    func run() throws {
        try KarstCLI.run {
            let reply = try connection.call("io.karst.Admin.Stats")
            if output.json { return printJSON(reply) }
            let o = reply
            var out = "running: \(number(o["running"]?.numberValue ?? 0))   placements/s: "
                + "\(number(o["placementsPerSecond"]?.numberValue ?? 0))   config generation: "
                + "\(number(o["generation"]?.numberValue ?? 0))\n\n"
            var rows = [["CLASS", "PENDING"]]
            for c in o["pending"]?.arrayValue ?? [] {
                rows.append([c.objectValue?["class"]?.stringValue ?? "?", number(c.objectValue?["pending"]?.numberValue ?? 0)])
            }
            out += table(rows) + "\n\n"
            var t = [["TENANT", "WEIGHT", "DOMINANT SHARE", "CPU", "MEMORY GiB", "ACCELERATORS"]]
            for v in o["tenants"]?.arrayValue ?? [] {
                let x = v.objectValue ?? [:]
                let u = x["usage"]?.objectValue ?? [:]
                t.append([x["tenant"]?.stringValue ?? "?", number(x["weight"]?.numberValue ?? 0),
                          String(format2((x["dominantShare"]?.numberValue ?? 0) * 100)) + "%",
                          number(u["cpu"]?.numberValue ?? 0), number(u["memoryGiB"]?.numberValue ?? 0),
                          number(u["accelerators"]?.numberValue ?? 0)])
            }
            print(out + table(t))
        }
    }
}

func format2(_ v: Double) -> String { String((v * 100).rounded() / 100) }

struct Metrics: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "metrics", abstract: "The daemon's metrics (Prometheus text).")
    @OptionGroup var connection: Connection
    @OptionGroup var output: OutputOptions

    func run() throws {
        try KarstCLI.run {
            let reply = try connection.call("io.karst.Admin.Metrics")
            if output.json { return printJSON(reply) }
            print(reply["text"]?.stringValue ?? "", terminator: "")
        }
    }
}

struct Reload: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reload",
        abstract: "Reload the daemon's configuration; returns once it is in force (or refused).",
        discussion: "Suitable for ExecReload=: the exit status says whether the new configuration took effect.")
    @OptionGroup var connection: Connection
    @OptionGroup var output: OutputOptions

    func run() throws {
        try KarstCLI.run {
            let reply = try connection.call("io.karst.Admin.Reload")
            if output.json { return printJSON(reply) }
            print("configuration generation \(number(reply["generation"]?.numberValue ?? 0)) in force")
        }
    }
}

struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "info", abstract: "What the daemon is (org.varlink.service.GetInfo).")
    @OptionGroup var connection: Connection
    @OptionGroup var output: OutputOptions

    func run() throws {
        try KarstCLI.run {
            let reply = try connection.call("org.varlink.service.GetInfo")
            if output.json { return printJSON(reply) }
            for key in ["vendor", "product", "version", "url"] {
                print("\(key): \(reply[key]?.stringValue ?? "?")")
            }
            print("interfaces: " + (reply["interfaces"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: ", "))
        }
    }
}

struct Backup: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Write an online, consistent copy of the daemon's state to FILE (an absolute path on the daemon's host).",
        discussion: "The copy is an SQLite database; restore it by stopping karstd and putting it in place of karst.sqlite.")
    @OptionGroup var connection: Connection
    @OptionGroup var output: OutputOptions
    @Argument(help: "Where to write the copy; must not exist yet.") var file: String

    func run() throws {
        try KarstCLI.run {
            let path = file.hasPrefix("/") ? file : currentDirectory() + "/" + file
            let reply = try connection.call("io.karst.Admin.Backup", ["path": .string(path)])
            if output.json { return printJSON(reply) }
            print("backed up \(number(reply["jobs"]?.numberValue ?? 0)) jobs to \(reply["path"]?.stringValue ?? path)")
        }
    }
}

struct Agents: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agents",
        abstract: "The site agents the daemon knows: data centre, state, last report, runs (docs/AGENTS.md).")
    @OptionGroup var connection: Connection
    @OptionGroup var output: OutputOptions

    func run() throws {
        try KarstCLI.run {
            let reply = try connection.call(AdminInterface.Agents.name)
            if output.json { return printJSON(reply) }
            let agents = try decodeList(reply, "agents", WireAgent.self)
            guard !agents.isEmpty else { return print("no site agents (none has connected since the daemon started)") }
            var rows = [["AGENT", "DATACENTRE", "STATE", "LAST REPORT", "RUNS"]]
            for a in agents {
                rows.append([a.name, a.datacenter, a.state, a.lastReport.map { age(since: $0) + " ago" } ?? "-", String(a.runs)])
            }
            print(table(rows))
        }
    }
}
