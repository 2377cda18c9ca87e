import ArgumentParser
import KarstClient
import KarstProtocol

/// `karstctl list`'s flags as plain values (filled by `List` or by the fast path), and the
/// listing: pages over one connection (of `ListSummaries` for a table, of `List` otherwise),
/// printed as a table, a wide table, JSON or JSON Lines.
struct ListFlags: Equatable {
    var socket: String?
    var json = false
    var state: String?
    var tenant: String?
    var datacenter: String?
    var limit: Int?
    var after: String?
    var all = false
    var format: String?

    enum Format: String { case table, wide, json, jsonl }

    func run() throws {
        let format: Format
        switch (self.format, json) {
        case (nil, false): format = .table
        case (nil, true): format = .json
        case (let name?, let json):
            guard let f = Format(rawValue: name) else { throw ValidationError("-o must be table, wide, json or jsonl, not '\(name)'") }
            guard !json || f == .json else { throw ValidationError("--json and -o \(name) disagree: give one") }
            format = f
        }
        if let limit, !(1...100_000).contains(limit) { throw ValidationError("--limit must be between 1 and 100000, not \(limit)") }
        try KarstCLI.run {
            let c = try Daemon(socket: socket).open()
            defer { c.close() }
            var cursor = after
            var jobs: [JSONValue] = []
            // A table keeps its rows, not the replies: each page's jobs go once read into rows
            // (--all reads pages of 10,000 jobs).
            var rows: [[String]] = [ListFlags.header(wide: format == .wide)]
            rows.reserveCapacity(limit.map { min($0, 10_000) + 1 } ?? 1001)
            let now = wallSeconds()
            // A table asks for summaries (half a minimal job's bytes); a daemon too old to know
            // ListSummaries gets List, of whose replies the parse keeps what the table shows.
            var summaries = format == .table
            func fetchPage(_ p: JSONObject) throws -> JSONObject {
                if summaries {
                    do { return try Failure.map { try c.call(SchedulerInterface.ListSummaries.name, p) } } catch Failure.refused(let e)
                        where e.name == ServiceInterface.MethodNotFound.name { summaries = false }
                }
                return try Failure.map { try c.call("io.karst.Scheduler.List", p, keeping: ListFlags.shown(format)) }
            }
            var remaining = 0
            repeat {
                var p: JSONObject = [:]
                if let state { p["state"] = .string(state) }
                if let tenant { p["tenant"] = .string(tenant) }
                if let datacenter { p["datacenter"] = .string(datacenter) }
                p["limit"] = .number(Double(limit ?? (all ? 10_000 : 1000)))
                if let cursor { p["after"] = .string(cursor) }
                let reply = try fetchPage(p)
                let page = reply["jobs"]?.arrayValue ?? []
                switch format {
                case .jsonl:
                    // Printed page by page: --all of a million jobs holds one page at a time.
                    var text = ""
                    for j in page { text += String(decoding: j.encoded, as: UTF8.self) + "\n" }
                    print(text, terminator: "")
                case .json: jobs += page
                case .table, .wide: for j in page { rows.append(ListFlags.row(j, wide: format == .wide, now: now)) }
                }
                let last = page.last?.objectValue?["id"]?.stringValue
                remaining = Int(reply["remaining"]?.numberValue ?? 0)
                guard let last else { break }
                cursor = last
            } while all && remaining > 0
            switch format {
            case .json:
                var o: JSONObject = ["jobs": .array(jobs)]
                o["remaining"] = .number(Double(remaining))
                printJSON(o)
                // Left to the kernel at exit: freeing 100,000 jobs piece by piece costs more than printing them.
                keptUntilExit.append(o)
            case .jsonl: break
            case .table, .wide:
                printBytes(tableBytes(rows))
                keptUntilExit.append(rows)
            }
            if remaining > 0 && format != .json {
                printErr("karstctl: \(remaining == 1 ? "1 more job matches" : "\(remaining) more jobs match"), not shown: add --after \(cursor ?? "") for the next page, or --all")
            }
        }
    }

    /// The members a table reads (`row`), the only ones its parse builds: a job's other members
    /// (its resources, command, environment, labels, times) are half or more of a list's reply.
    /// JSON output keeps everything.
    static func shown(_ format: Format) -> JSONParser.MemberNames? {
        let table = ["jobs", "remaining", "id", "spec", "tenant", "priorityClass", "state", "datacenter", "pool",
                     "shards", "replicas", "submittedAt", "queuePosition", "estimatedStart", "pendingReason"]
        switch format {
        case .json, .jsonl: return nil
        case .table: return JSONParser.MemberNames(table)
        case .wide: return JSONParser.MemberNames(table + ["name", "origin", "priority", "resources", "cpu", "memoryGiB",
                                                           "accelerators", "acceleratorModel"])
        }
    }

    /// The table's header row.
    static func header(wide: Bool) -> [String] {
        wide ? ["ID", "NAME", "TENANT", "ORIGIN", "CLASS", "PRIO", "STATE", "DC/POOL", "CPU", "MEM", "ACC", "REPL",
                "AGE", "POS", "ETA", "REASON"]
             : ["ID", "TENANT", "CLASS", "STATE", "DC/POOL", "AGE", "POS", "ETA", "REASON"]
    }

    /// A job's row, read straight from the reply's job (a `JobSummary`, or a `Job` whose spec
    /// has the tenant and class): decoding each whole `Job` first costs more than the rest of
    /// the listing (docs/BENCHMARKS.md, "karstctl start-up").
    static func row(_ job: JSONValue, wide: Bool, now: Double) -> [String] {
        guard case .object(let j) = job else { return [] }
        func text(_ o: JSONObject?, _ key: String) -> String? { o?[key]?.stringValue }
        func int(_ o: JSONObject?, _ key: String) -> String? { o?[key]?.numberValue.map { String(Int($0)) } }
        let spec = j["spec"]?.objectValue ?? j
        let position = int(j, "queuePosition") ?? ""
        let eta = text(j, "estimatedStart").map { untilText($0, now: now) } ?? ""
        let ageText = text(j, "submittedAt").map { age(since: $0, now: now) } ?? "?"
        let state = text(j, "state") ?? "?"
        let place = placement(datacenter: text(j, "datacenter"), pool: text(j, "pool"), shards: j["shards"]?.arrayValue)
        guard wide else {
            return [text(j, "id") ?? "?", text(spec, "tenant") ?? "-", text(spec, "priorityClass") ?? "", state,
                    place, ageText, position, eta, text(j, "pendingReason") ?? ""]
        }
        let r = spec["resources"]?.objectValue
        let acc = int(r, "accelerators").map { $0 + (text(r, "acceleratorModel").map { " \($0)" } ?? "") } ?? ""
        return [text(j, "id") ?? "?", text(spec, "name") ?? "", text(spec, "tenant") ?? "-",
                text(spec, "origin") ?? "", text(spec, "priorityClass") ?? "", int(spec, "priority") ?? "",
                state, place, r?["cpu"]?.numberValue.map(number) ?? "", r?["memoryGiB"]?.numberValue.map(number) ?? "",
                acc, int(spec, "replicas") ?? "1", ageText, position, eta, text(j, "pendingReason") ?? ""]
    }
}
