import KarstCore

/// The `jobs.policy` column: a job's scheduling-policy state in one short text, NULL when it has
/// none (most jobs), so the common row costs nothing extra.
///
/// Format: `;`-separated items — `borrowed`, `deadline-missed`, `preempted-by=<job number>,…`,
/// `shards=<pool>*<replicas>,<pool>*<replicas>` (pool ids never contain `*`, `,` or `;`),
/// `agent=<name>` (the site agent its run is leased to; `%`, `;` and `=` percent-escaped),
/// `stop=<reason>` (that run is stopping), `ran=<agent>`, `run=<attempt>`, `site=<id>`, `out=<path>`,
/// `lim=<limits>` (where its latest run on an agent ran: `RunPlace`).
package enum PolicyCodec {
    package static func encode(_ r: JobRecord) -> String? {
        var items: [String] = []
        if r.borrowed { items.append("borrowed") }
        if r.deadlineMissed { items.append("deadline-missed") }
        if !r.preemptedBy.isEmpty { items.append("preempted-by=" + r.preemptedBy.map { String($0.rawValue) }.joined(separator: ",")) }
        if !r.shards.isEmpty { items.append("shards=" + r.shards.map { "\($0.pool)*\($0.replicas)" }.joined(separator: ",")) }
        if let lease = r.lease {
            items.append("agent=" + escape(lease.agent))
            if let stop = lease.stop { items.append("stop=" + stop.rawValue) }
        }
        if let run = r.lastRun {
            items.append("ran=" + escape(run.agent))
            items.append("run=\(run.attempt)")
            items.append("site=" + escape(run.siteID))
            if let out = run.output { items.append("out=" + escape(out)) }
            if let lim = run.limits { items.append("lim=" + escape(lim)) }
        }
        return items.isEmpty ? nil : items.joined(separator: ";")
    }

    package static func decode(_ text: String?, into r: inout JobRecord) throws(StoreError) {
        guard let text else { return }
        for item in text.split(separator: ";") {
            if item == "borrowed" {
                r.borrowed = true
            } else if item == "deadline-missed" {
                r.deadlineMissed = true
            } else if item.hasPrefix("preempted-by=") {
                for n in item.dropFirst("preempted-by=".count).split(separator: ",") {
                    guard let v = UInt64(n) else { throw .corrupt(reason: "job \(r.id) has a malformed preempted-by '\(item)'") }
                    r.preemptedBy.append(JobID(v))
                }
            } else if item.hasPrefix("shards=") {
                for shard in item.dropFirst("shards=".count).split(separator: ",") {
                    let parts = shard.split(separator: "*")
                    guard parts.count == 2, let n = Int(parts[1]) else {
                        throw .corrupt(reason: "job \(r.id) has a malformed shard '\(shard)'")
                    }
                    r.shards.append((String(parts[0]), n))
                }
            } else if item.hasPrefix("agent=") {
                r.lease = (unescape(item.dropFirst("agent=".count)), r.lease?.stop)
            } else if item.hasPrefix("stop="), let reason = AgentBook.StopReason(rawValue: String(item.dropFirst("stop=".count))) {
                r.lease = (r.lease?.agent ?? "", reason)
            } else if item.hasPrefix("ran=") || item.hasPrefix("run=") || item.hasPrefix("site=") || item.hasPrefix("out=")
                        || item.hasPrefix("lim=") {
                let key = item.prefix { $0 != "=" }
                let value = unescape(item.dropFirst(key.count + 1))
                let run = r.lastRun
                guard key != "run" || Int(value) != nil else { throw .corrupt(reason: "job \(r.id) has a malformed '\(item)'") }
                r.lastRun = RunPlace(agent: key == "ran" ? value : run?.agent ?? "",
                                     attempt: key == "run" ? Int(value)! : run?.attempt ?? 0,
                                     siteID: key == "site" ? value : run?.siteID ?? "",
                                     output: key == "out" ? value : run?.output,
                                     limits: key == "lim" ? value : run?.limits)
            } else {
                throw .corrupt(reason: "job \(r.id) has unknown policy item '\(item)'")
            }
        }
    }

    private static func escape(_ text: String) -> String {
        var out = ""
        for c in text.unicodeScalars {
            switch c {
            case "%": out += "%25"
            case ";": out += "%3B"
            case "=": out += "%3D"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    private static func unescape(_ text: Substring) -> String {
        text.replacingOccurrences(of: "%3B", with: ";").replacingOccurrences(of: "%3D", with: "=")
            .replacingOccurrences(of: "%25", with: "%")
    }
}
