import KarstProtocol

#if canImport(Glibc)
import Glibc
#endif

/// Pretty JSON for `--json`.
func pretty(_ v: JSONValue, indent: String = "") -> String {
    let inner = indent + "  "
    switch v {
    case .object(let o):
        if o.isEmpty { return "{}" }
        return "{\n" + o.members.map { "\(inner)\(quoted($0.key)): \(pretty($0.value, indent: inner))" }
            .joined(separator: ",\n") + "\n\(indent)}"
    case .array(let a):
        if a.isEmpty { return "[]" }
        return "[\n" + a.map { inner + pretty($0, indent: inner) }.joined(separator: ",\n") + "\n\(indent)]"
    default:
        return String(decoding: v.encoded, as: UTF8.self)
    }
}

private func quoted(_ s: String) -> String { String(decoding: JSONValue.string(s).encoded, as: UTF8.self) }

/// Columns padded to their widest cell; the last column is not padded.
func table(_ rows: [[String]]) -> String {
    String(decoding: tableBytes(rows), as: UTF8.self)
}

/// `table`'s text as UTF-8, built in one buffer (a list of 100,000 jobs is 100,000 rows).
func tableBytes(_ rows: [[String]]) -> [UInt8] {
    guard let cols = rows.first?.count else { return [] }
    // Each cell's width, row after row in one array (no array per row to build and free).
    var cells = [Int]()
    cells.reserveCapacity(rows.count * cols)
    var widths = [Int](repeating: 0, count: cols)
    for row in rows {
        for c in 0..<cols {
            let w = width(row[c])
            cells.append(w)
            widths[c] = max(widths[c], w)
        }
    }
    let spaces = [UInt8](repeating: 0x20, count: (widths.max() ?? 0) + 2)
    var out: [UInt8] = []
    out.reserveCapacity(rows.count * (widths.reduce(0, +) + 2 * cols + 1))
    for (r, row) in rows.enumerated() {
        if r > 0 { out.append(0x0A) }
        for c in 0..<cols {
            var cell = row[c]
            cell.withUTF8 { out.append(contentsOf: $0) }
            if c < cols - 1 {
                let n = widths[c] - cells[r * cols + c] + 2
                spaces.withUnsafeBufferPointer { out.append(contentsOf: UnsafeBufferPointer(rebasing: $0[0..<n])) }
            }
        }
    }
    return out
}

/// Writes `line` and a newline to standard output, as `print` would, without `print`'s
/// `Any...` array: the line a one-call command prints (a submit's, `--version`) then builds no
/// generic metadata at run time, which costs a short-lived process more than the printing.
func printLine(_ line: String) { printBytes(Array(line.utf8)) }

/// Writes `bytes` and a newline to standard output, past Swift's `print` (one call for a
/// whole table).
func printBytes(_ bytes: [UInt8]) {
    fflush(nil)
    writeAll(1, bytes + [0x0A])
}

/// Writes every byte to `fd` (retrying interrupted and short writes); gives up on an error.
func writeAll(_ fd: Int32, _ bytes: [UInt8]) {
    var done = 0
    while done < bytes.count {
        let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + done, $0.count - done) }
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { return }
        done += n
    }
}

/// Keeps what a command built alive until the process exits: freeing a 100,000-job reply piece
/// by piece costs more than printing it, and the kernel frees it whole at exit.
nonisolated(unsafe) var keptUntilExit: [Any] = []

/// `s` followed by spaces to `width` characters (never cut).
func padRight(_ s: String, _ columns: Int) -> String {
    let w = width(s)
    return w >= columns ? s : s + String(repeating: " ", count: columns - w)
}

/// Characters in `s`, counted cheaply when it is ASCII (nearly every cell of a table).
func width(_ s: String) -> Int {
    var s = s
    // Native strings are contiguous: a tight loop over their bytes (most cells are ASCII).
    return s.withUTF8 { b in b.allSatisfy { $0 < 0x80 } ? b.count : nil } ?? s.count
}

/// `[#######.............]  35%`
func bar(_ fraction: Double, width: Int = 20) -> String {
    let f = fraction.isFinite ? min(1, max(0, fraction)) : 0
    let filled = Int((f * Double(width)).rounded())
    let pct = String(Int((f * 100).rounded()))
    return "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "] "
        + String(repeating: " ", count: 3 - pct.count) + pct + "%"
}

/// The wall clock, in seconds since the Unix epoch.
func wallSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}

/// A short age: `42s`, `7m`, `3h`, `2d`.
func age(since rfc3339: String, now: Double = wallSeconds()) -> String {
    guard let t = parseTime(rfc3339) else { return "?" }
    let s = max(0, now - t)
    if s < 60 { return "\(Int(s))s" }
    if s < 3600 { return "\(Int(s / 60))m" }
    if s < 86400 { return "\(Int(s / 3600))h" }
    return "\(Int(s / 86400))d"
}

/// Seconds since the epoch of a daemon timestamp (always UTC, `…Z`).
func parseTime(_ text: String) -> Double? {
    var text = text
    // Read in place (a table of 1,000 jobs reads 2,000 of them).
    let fields: (Int, Int, Int, Int, Int, Int)? = text.withUTF8 { b in
        guard b.count >= 20 else { return nil }
        func n(_ from: Int, _ len: Int) -> Int? {
            var v = 0
            for k in from..<(from + len) {
                let c = b[k]
                guard c >= 0x30 && c <= 0x39 else { return nil }
                v = v * 10 + Int(c - 0x30)
            }
            return v
        }
        guard let y = n(0, 4), let mo = n(5, 2), let d = n(8, 2), let h = n(11, 2), let mi = n(14, 2), let s = n(17, 2) else {
            return nil
        }
        return (y, mo, d, h, mi, s)
    }
    guard let (y, mo, d, h, mi, s) = fields else { return nil }
    let yy = mo <= 2 ? y - 1 : y
    let era = (yy >= 0 ? yy : yy - 399) / 400
    let yoe = yy - era * 400
    let doy = (153 * ((mo + 9) % 12) + 2) / 5 + d - 1
    let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468
    return Double(days * 86400 + h * 3600 + mi * 60 + s)
}

func number(_ v: Double) -> String {
    v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : String((v * 10).rounded() / 10)
}

/// A decoded wire value from a reply field.
/// The reply member `key`, read by its generated wire type (leniently: members a newer daemon
/// adds are skipped).
func decode<T: WireValue>(_ o: JSONObject, _ key: String, _ type: T.Type) throws -> T {
    guard let value = o[key] else { throw Failure.malformed("the reply has no \(key)") }
    do { return try T(wire: value, path: WirePath(key), strict: false) } catch { throw Failure.malformed("\(error)") }
}

/// The reply member `key`, an array of `T`.
func decodeList<T: WireValue>(_ o: JSONObject, _ key: String, _ type: T.Type) throws -> [T] {
    try decode(o, key, [T].self)
}

/// `dc/pool`, or `dc/pool*3+pool*1` for a gang split over pools; `-` when not placed.
func placement(_ j: WireJob) -> String {
    placement(datacenter: j.datacenter, pool: j.pool, shards: j.shards?.map { .object($0.json.objectValue ?? [:]) })
}

/// `placement` from a job's members as the daemon sent them.
func placement(datacenter: String?, pool: String?, shards: [JSONValue]?) -> String {
    guard let dc = datacenter else { return "-" }
    if let shards, shards.count > 1 {
        return dc + "/" + shards.map { s in
            "\(s.objectValue?["pool"]?.stringValue ?? "?")*\(Int(s.objectValue?["replicas"]?.numberValue ?? 0))"
        }.joined(separator: "+")
    }
    return "\(dc)/\(pool ?? "?")"
}

/// "in 12m", "in 2h05m", "now" for an RFC 3339 time relative to the wall clock (a daemon run
/// with `--time-scale` keeps model time: there the absolute time is what counts).
func untilText(_ rfc3339: String, now: Double = wallSeconds()) -> String {
    guard let t = parseTime(rfc3339) else { return rfc3339 }
    let s = t - now
    if s < 60 { return "now" }
    if s < 3600 { return "in \(Int(s / 60))m" }
    return "in \(Int(s / 3600))h" + twoDigits(Int(s.truncatingRemainder(dividingBy: 3600) / 60)) + "m"
}

/// What `karstctl submit --dry-run` prints: where and when the job would start.
func describeDryRun(_ j: WireJob) -> String {
    var lines: [String] = []
    if j.datacenter != nil {
        lines.append("would start now in \(placement(j))")
        if let victims = j.preempts, !victims.isEmpty { lines.append("  by preempting \(victims.joined(separator: ", "))") }
    } else {
        lines.append("would wait: \(j.pendingReason ?? "unknown")")
        if let pos = j.queuePosition { lines.append("  queue position \(pos)") }
        if let eta = j.estimatedStart { lines.append("  estimated start \(eta) (\(untilText(eta)))") } else {
            lines.append("  estimated start unknown (no reservation covers it yet)")
        }
    }
    lines.append("(dry run: nothing stored)")
    return lines.joined(separator: "\n")
}

/// The multi-line description `karstctl get` prints.
func describe(_ j: WireJob) -> String {
    let r = j.spec.resources
    var res = "\(number(r.cpu)) cpu, \(number(r.memoryGiB)) GiB"
    if let a = r.accelerators { res += ", \(a) × \(r.acceleratorModel ?? "any accelerator")" }
    if let n = j.spec.replicas { res += ", \(n) replicas" }
    var lines: [(String, String)] = [
        ("ID", j.id), ("Name", j.spec.name ?? "-"), ("Tenant", j.spec.tenant ?? "-"),
        ("Class", j.spec.priorityClass + (j.spec.priority.map { " (priority \($0))" } ?? "")),
        ("Origin", j.spec.origin), ("Resources", res),
    ]
    if let argv = j.spec.command, !argv.isEmpty { lines.append(("Command", shellQuoted(argv))) }
    if let env = j.spec.environment, !env.isEmpty {
        // Keys only: values may be secrets (`--json` has them).
        lines.append(("Environment", env.keys.sorted().map(shellWord).joined(separator: " ")))
    }
    if let dir = j.spec.workingDirectory { lines.append(("Working directory", shellWord(dir))) }
    lines.append(("State", j.state))
    if j.datacenter != nil { lines.append(("Placement", placement(j) + (j.borrowed == true ? " (borrowed capacity)" : ""))) }
    if let reason = j.pendingReason { lines.append(("Pending reason", reason)) }
    if let pos = j.queuePosition { lines.append(("Queue position", String(pos))) }
    if let eta = j.estimatedStart { lines.append(("Estimated start", "\(eta) (\(untilText(eta)))")) }
    if let deps = j.spec.dependsOn { lines.append(("Depends on", deps.joined(separator: ", "))) }
    if let d = j.spec.deadline { lines.append(("Deadline", d)) }
    if j.spec.notBefore != nil || j.spec.notAfter != nil {
        lines.append(("Window", "\(j.spec.notBefore ?? "now") … \(j.spec.notAfter ?? "open")"))
    }
    lines.append(("Submitted", j.submittedAt))
    if let s = j.startedAt { lines.append(("Started", s)) }
    if let f = j.finishedAt { lines.append(("Finished", f)) }
    if let d = j.spec.durationSeconds {
        let runsCommand = !(j.spec.command ?? []).isEmpty
        lines.append(("Duration", "\(number(d)) s (\(runsCommand ? "expected" : "modelled"))"))
    }
    lines.append(("Attempts", "\(j.attempts) (preempted \(j.preemptions)×)"))
    if let agent = j.agent {
        lines.append(("Agent", agent + (j.siteID.map { " (\($0), attempt \(j.attempts))" } ?? " (attempt \(j.attempts), not started yet)")))
    }
    if let o = j.output { lines.append(("Output", o + (j.agent.map { " (on \($0)'s host)" } ?? ""))) }
    if let l = j.limits { lines.append(("Limits", l)) }
    if let m = j.message { lines.append(("Message", m)) }
    let w = lines.map(\.0.count).max() ?? 0
    return lines.map { $0.0 + ":" + String(repeating: " ", count: w - $0.0.count + 1) + $0.1 }.joined(separator: "\n")
}

func printJSON(_ o: JSONObject) { print(pretty(.object(o))) }

/// An argv as a POSIX shell would take it back: each argument a `shellWord`, separated by spaces.
func shellQuoted(_ argv: [String]) -> String { argv.map(shellWord).joined(separator: " ") }

/// One word for a POSIX shell: as it is when it holds only characters no shell treats specially,
/// else in single quotes (`'` as `'\''`); one with a control character (a newline, a tab) as
/// `$'…'` with escapes, so that a description stays on its lines.
func shellWord(_ s: String) -> String {
    func plain(_ c: Unicode.Scalar) -> Bool {
        switch c {
        case "a"..."z", "A"..."Z", "0"..."9", "@", "%", "+", "=", ":", ",", ".", "/", "_", "-": true
        default: false
        }
    }
    func control(_ c: Unicode.Scalar) -> Bool { c.value < 0x20 || (0x7f...0x9f).contains(c.value) }
    if !s.isEmpty, s.unicodeScalars.allSatisfy(plain) { return s }
    var out = ""
    guard s.unicodeScalars.contains(where: control) else {
        for c in s.unicodeScalars { if c == "'" { out += "'\\''" } else { out.unicodeScalars.append(c) } }
        return "'" + out + "'"
    }
    for c in s.unicodeScalars {
        switch c {
        case "\n": out += "\\n"
        case "\t": out += "\\t"
        case "\r": out += "\\r"
        case "\\": out += "\\\\"
        case "'": out += "\\'"
        case _ where control(c):
            let hex = String(c.value, radix: 16)
            out += (c.value < 0x80 ? "\\x" : "\\u00") + (hex.count < 2 ? "0" : "") + hex
        default: out.unicodeScalars.append(c)
        }
    }
    return "$'" + out + "'"
}
