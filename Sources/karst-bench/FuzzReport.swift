import Foundation

/// A campaign's totals over its rounds, the verdict, and the printed report.
struct FuzzReport {
    var stats = FuzzStats()
    var canary = FuzzCanary.Report()
    /// Report lines per crash.
    var crashes: [[String]] = []
    var peakKB = 0
    var elapsed = 0.0
    /// Why the daemon failed the last Ping/Submit/Get after the campaign (nil: it answered).
    var finalCheck: String?
    /// The daemon's stderr (it logs errors only).
    var daemonLog: [String] = []
    /// The daemon's jobs at the end (`Admin.Stats`).
    var jobs = "unknown"

    mutating func add(_ round: FuzzRound.Outcome) {
        stats.merge(round.stats)
        canary.merge(round.canary)
        peakKB = max(peakKB, round.peakKB)
        elapsed += round.elapsed
    }

    var passed: Bool { crashes.isEmpty && stats.nonVarlink == 0 && canary.late == 0 && finalCheck == nil }

    func print() {
        let s = stats
        var out: [String] = ["", "## Fuzz campaign"]
        out.append("frames sent: \(s.frames) (\(s.bytes / 1_048_576) MiB) in \(String(format: "%.1f", elapsed)) s: "
            + "\(Int(Double(s.frames) / max(elapsed, 0.001))) frames/s; \(s.syncs) sync pings answered")
        out.append("frames by method (the valid call each was made from):")
        out += fuzzCountLines(s.framesByMethod)
        out.append("frames by damage (a frame may have several):")
        out += fuzzCountLines(s.framesByDamage, top: 25)
        let replies = s.replies.values.reduce(0, +)
        out.append("replies: \(replies); by error (top 15):")
        out += fuzzCountLines(s.replies, top: 15)
        out.append("non-Varlink replies: \(s.nonVarlink)")
        out += s.nonVarlinkSamples.map { "  " + $0 }
        out.append("connections: \(s.reconnects) reconnects; closed by the daemon \(s.closedByDaemon); "
            + "Watch streams capped \(s.watchesCapped); stalled exchanges \(s.stalls)")
        out += s.stallSamples.map { "  " + $0 }
        out.append("exchanges answered after more than 1 s: \(s.slowExchanges)")
        out += s.slowSamples.map { "  " + String($0.prefix(400)) }
        if !s.connectErrors.isEmpty { out.append("connect errors: " + s.connectErrors.map { "\($0.key) \($0.value)" }.joined(separator: ", ")) }
        let c = canary
        out.append("canary: \(c.totalCalls) calls (" + c.calls.sorted { $0.key < $1.key }.map {
            "\($0.key) \($0.value), max \(fuzzMillis(c.maxLatency[$0.key] ?? 0)) ms"
        }.joined(separator: "; ") + "); late (> 2 s or unanswered): \(c.late)")
        if !c.errors.isEmpty { out.append("canary error replies: " + c.errors.map { "\($0.key) \($0.value)" }.joined(separator: ", ")) }
        out += c.failures.map { "  canary failure: " + $0 }
        out.append("daemon peak RSS (VmHWM): \(peakKB / 1024) MiB; its jobs at the end: \(jobs)")
        out.append("daemon stderr (it logs errors only): \(daemonLog.count) lines" + (daemonLog.isEmpty ? "" : "; by message:"))
        let messages = daemonLog.map { line in String(line.split(separator: " ", maxSplits: 1).last ?? "").prefix(110) }
        out += fuzzCountLines(Dictionary(messages.map { (String($0), 1) }, uniquingKeysWith: +), top: 8)
        out.append("crashes: \(crashes.count)")
        out += crashes.flatMap { $0.map { "  " + $0 } }
        out.append("after the campaign: " + (finalCheck.map { "the daemon did NOT answer: \($0)" } ?? "the daemon answers Ping, Submit, Get"))
        out.append(passed ? "PASS" : "FAIL")
        Swift.print(out.joined(separator: "\n"))
    }
}
