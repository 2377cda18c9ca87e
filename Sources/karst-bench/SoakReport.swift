import Foundation

/// The soak's printed summary: kills and restarts, calls by kind and outcome, what the checks
/// found, latency per minute, RSS over time with the flatness test, the daemon's own checks, and
/// a verdict.
struct SoakReport {
    let options: SoakBench
    let run: SoakRun

    /// Prints the summary; returns every failure (problems of the run, violations of the
    /// ledger, unexpected refusals, RSS growth).
    func print(problems: [String]) -> [String] {
        let m = run.metrics.contents.withLock { $0 }
        let ledger = run.ledger.contents.withLock { $0 }
        var failures = problems + ledger.violations
        let o = options
        out("\nkarst-bench soak: \(format1(o.minutes)) min, \(o.clients) clients × \(format1(o.rate)) calls/s, a watcher and an admin; "
            + "kill -9 every \(format1(o.killEvery)) s ± 50 % (seed \(o.seed)); --time-scale \(format1(o.timeScale)), "
            + "retention \(Int(o.retentionSeconds)) s")
        let restart = run.restartSeconds.sorted(), check = run.checks.map(\.seconds).sorted()
        out("kills \(run.kills), restarts \(run.restarts) (SIGKILL to accepting: p50 \(ms(percentile(restart, 0.5))) ms, "
            + "max \(ms(restart.last ?? 0)) ms), checks \(run.checks.count) (initial, after every restart, final, after a "
            + "graceful restart; p50 \(ms(percentile(check, 0.5))) ms, max \(ms(check.last ?? 0)) ms)\n")

        out(pad("call", 18) + pad("acknowledged", 14) + pad("refused", 9) + pad("lost", 6) + pad("p50 ms", 8) + "p99 ms")
        let byCall = Dictionary(grouping: m.latencies, by: \.call).mapValues { $0.map { Double($0.seconds) }.sorted() }
        for call in SoakCall.allCases where call != .watch {
            let refused = m.refused.filter { $0.key.hasPrefix(call.name + ":") }.values.reduce(0, +)
            let lat = byCall[call] ?? []
            out(pad(call.name, 18) + pad("\(m.acknowledged[call] ?? 0)", 14) + pad("\(refused)", 9) + pad("\(m.lost[call] ?? 0)", 6)
                + pad(ms(percentile(lat, 0.5)), 8) + ms(percentile(lat, 0.99)))
        }
        let acked = m.acknowledged.values.reduce(0, +), lost = m.lost.values.reduce(0, +)
        out(pad("all", 18) + pad("\(acked)", 14) + pad("\(m.refused.values.reduce(0, +))", 9) + "\(lost)")
        let expected = m.refused.filter { Self.expectedRefusal($0.key) }, unexpected = m.refused.filter { !Self.expectedRefusal($0.key) }
        out("refusals expected (the job finished, or moved on, before the call): " + list(expected))
        out("refusals unexpected: " + list(unexpected))
        if !unexpected.isEmpty { failures.append("unexpected refusals: " + list(unexpected)) }
        out("Watch: \(m.watchEvents) events over \(m.watchSessions) streams, \(m.slowConsumer) ended SlowConsumer\n")

        let applied = run.checks.reduce(0) { $0 + $1.outcome.applied }, notApplied = run.checks.reduce(0) { $0 + $1.outcome.notApplied }
        let pruned = run.checks.reduce(0) { $0 + $1.outcome.pruned }
        let submits = ledger.jobs.values.filter { $0.submit == .acknowledged }.count
        out("Verification (\(run.checks.count) checks): \(ledger.jobs.count) jobs sent, \(submits) exist or existed "
            + "(each found exactly once under its acknowledged id); lost submits decided: \(applied) applied once, "
            + "\(notApplied) not applied; \(pruned) finished jobs pruned by retention; "
            + "\(run.checks.last?.outcome.jobs ?? 0) jobs at the end")
        out("  violations: \(ledger.violations.count)")
        for v in ledger.violations.prefix(30) { out("    " + v) }
        if ledger.violations.count > 30 { out("    … \(ledger.violations.count - 30) more") }
        out("  karstd on SIGTERM: " + run.sigtermStatus.map { $0.map { "exit \($0)" } ?? "killed after 30 s" }.joined(separator: ", "))
        if let (status, text) = run.checkState {
            let indented = text.trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: "\n", with: "\n    ")
            out("  karstd --check-state: exit \(status): " + indented)
        }

        latencyTable(m.latencies)
        if let growth = rssTable(m.rss), growth >= 0.05 {
            failures.append("RSS grew \(format1(growth * 100)) % beyond the stored jobs over the second half (limit 5 %)")
        }
        out("\n" + (failures.isEmpty ? "PASS" : "FAIL: \(failures.count) problem\(failures.count == 1 ? "" : "s")"))
        for p in failures where !ledger.violations.contains(p) { out("  " + p) }
        if !ledger.violations.isEmpty { out("  \(ledger.violations.count) violations of the ledger (listed above)") }
        return failures
    }

    private func latencyTable(_ all: [SoakMetrics.Latency]) {
        let shown: [SoakCall] = [.submit, .submitBatch, .dryRun, .cancel, .hold, .release, .complete, .list, .listSummaries, .reload]
        let short: [SoakCall: String] = [.submitBatch: "Batch", .dryRun: "DryRun", .reload: "Admin"]
        out("\nLatency of acknowledged calls per minute, ms (p99 by kind; Admin = Reload):")
        out(pad("minute", 8) + pad("calls", 7) + pad("p50", 7) + pad("p99", 7)
            + shown.map { pad(short[$0] ?? $0.name, 10) }.joined())
        let minutes = Int((options.minutes - 1e-9).rounded(.down))
        for minute in 0...max(0, minutes) {
            let these = all.filter { Int($0.at / 60) == minute || (minute == minutes && Int($0.at / 60) > minute) }
            let lat = these.map { Double($0.seconds) }.sorted()
            let byCall = Dictionary(grouping: these, by: \.call).mapValues { $0.map { Double($0.seconds) }.sorted() }
            out(pad("\(minute + 1)", 8) + pad("\(these.count)", 7) + pad(ms(percentile(lat, 0.5)), 7) + pad(ms(percentile(lat, 0.99)), 7)
                + shown.map { pad(ms(percentile(byCall[$0] ?? [], 0.99)), 10) }.joined())
        }
        let lat = all.map { Double($0.seconds) }.sorted()
        out(pad("all", 8) + pad("\(all.count)", 7) + pad(ms(percentile(lat, 0.5)), 7) + ms(percentile(lat, 0.99)))
    }

    /// Prints RSS over time and the flatness test; returns the growth, or nil if not measurable.
    private func rssTable(_ samples: [SoakMetrics.RSS]) -> Double? {
        let t = options.minutes * 60
        let buckets = max(1, min(12, Int(t / 30)))
        out("\nkarstd RSS (VmRSS of /proc/PID/status, sampled every second and right before each kill; heap = its RssAnon "
            + "part; jobs and highest id: in the state at the checks):")
        out(pad("from s", 8) + pad("samples", 9) + pad("mean MB", 9) + pad("max MB", 8) + pad("pre-kill MB", 13)
            + pad("(heap)", 8) + pad("jobs", 7) + "highest id")
        for b in 0..<buckets {
            let lo = t * Double(b) / Double(buckets), hi = t * Double(b + 1) / Double(buckets)
            let these = samples.filter { $0.at >= lo && ($0.at < hi || b == buckets - 1) }
            let pre = these.filter(\.beforeKill)
            let inBucket = run.checks.filter { $0.at >= lo && $0.at < hi }
            let jobs = inBucket.map(\.outcome.jobs).max(), highest = inBucket.map(\.outcome.highestJob).max()
            out(pad("\(Int(lo))", 8) + pad("\(these.count)", 9) + pad(mb(mean(these.map(\.bytes))), 9)
                + pad(mb(Double(these.map(\.bytes).max() ?? 0)), 8) + pad(pre.isEmpty ? "-" : mb(mean(pre.map(\.bytes))), 13)
                + pad(pre.isEmpty ? "-" : mb(mean(pre.map(\.anon))), 8) + pad(jobs.map(String.init) ?? "-", 7)
                + (highest.map { "job-\($0)" } ?? "-"))
        }
        // A daemon killed every few seconds cannot accumulate a leak within one life: what its
        // RSS carries from life to life is the state it recovers, which still grows while the
        // soak fills it. So the test is on the RSS the stored jobs do not explain: a line
        // RSS = a + b·jobs fitted to every pre-kill sample (jobs: as the check after the
        // restart before it found them), and its residual compared between the last two quarters.
        let pre = samples.filter(\.beforeKill).compactMap { s -> (at: Double, rss: Double, jobs: Double)? in
            guard let check = run.checks.last(where: { $0.at <= s.at }) else { return nil }
            return (s.at, Double(s.bytes), Double(check.outcome.jobs))
        }
        let q3 = pre.filter { $0.at >= t / 2 && $0.at < 0.75 * t }
        let q4 = pre.filter { $0.at >= 0.75 * t }
        out("Flatness: pre-kill RSS beyond what the stored jobs explain (RSS = a + b·jobs over the run), last quarter "
            + "against the third; fails at ≥ 5 % of the third quarter's RSS.")
        guard !q3.isEmpty, !q4.isEmpty else {
            out("  not measurable: \(q3.count) and \(q4.count) pre-kill samples in those quarters (run longer or kill more often)")
            return nil
        }
        let mj = mean(pre.map(\.jobs)), mr = mean(pre.map(\.rss))
        let varJ = pre.reduce(0.0) { $0 + ($1.jobs - mj) * ($1.jobs - mj) }
        let perJob = varJ > 0 ? max(0, pre.reduce(0.0) { $0 + ($1.jobs - mj) * ($1.rss - mr) } / varJ) : 0
        func residual(_ q: [(at: Double, rss: Double, jobs: Double)]) -> Double { mean(q.map { $0.rss - perJob * $0.jobs }) }
        let a = mean(q3.map(\.rss)), b = mean(q4.map(\.rss))
        let growth = (residual(q4) - residual(q3)) / a
        out("  third quarter \(mb(a)) MB (\(q3.count) kills, \(Int(mean(q3.map(\.jobs)))) jobs), last quarter \(mb(b)) MB "
            + "(\(q4.count) kills, \(Int(mean(q4.map(\.jobs)))) jobs); \(Int(perJob)) B per stored job; growth beyond the jobs "
            + "\(format1(growth * 100)) % — \(growth < 0.05 ? "flat" : "NOT flat")")
        return growth
    }

    /// InvalidTransition or NoSuchJob (pruned) on a call about one job: the daemon moved it on.
    static func expectedRefusal(_ key: String) -> Bool {
        let onJob = ["Cancel", "Hold", "Release", "Complete", "Get"].contains { key.hasPrefix($0 + ":") }
        return onJob && (key.hasSuffix(".InvalidTransition") || key.hasSuffix(".NoSuchJob"))
    }

    private func list(_ counts: [String: Int]) -> String {
        counts.isEmpty ? "none" : counts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
    }

    private func mean(_ xs: [Int]) -> Double { xs.isEmpty ? 0 : Double(xs.reduce(0, +)) / Double(xs.count) }
    private func mean(_ xs: [Double]) -> Double { xs.isEmpty ? 0 : xs.reduce(0, +) / Double(xs.count) }
    private func mb(_ bytes: Double) -> String { format1(bytes / 1_048_576) }
    private func ms(_ seconds: Double) -> String { seconds < 0.01 ? String(format: "%.2f", seconds * 1000) : format1(seconds * 1000) }
    private func out(_ line: String) { Swift.print(line) }
}
