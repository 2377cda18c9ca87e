import Foundation
import KarstCore

/// The soak's controller: starts the workers, kills and restarts the daemon at seeded random
/// intervals, checks the recovered state with every worker parked, samples RSS every second and
/// right before each kill, and at the end stops everything and runs the final checks. Every loop
/// ends by the clock or after a bounded wait.
struct SoakRun {
    /// One check of the state against the ledger.
    struct CheckRecord {
        var at: Double
        var name: String
        var outcome: SoakCheck.Outcome
        /// How long it took (List, Topology, Stats and the comparison).
        var seconds: Double
    }

    let options: SoakBench
    let daemon: SoakDaemon
    let ledger = SoakLedger()
    let gate = SoakGate()
    let metrics = SoakMetrics(started: monotonicSeconds())
    var checks: [CheckRecord] = []
    var kills = 0
    var restarts = 0
    /// Seconds from each SIGKILL until the restarted daemon accepted a connection.
    var restartSeconds: [Double] = []
    var sigtermStatus: [Int32?] = []
    var checkState: (Int32, String)?

    init(options: SoakBench, daemon: SoakDaemon) {
        self.options = options
        self.daemon = daemon
    }

    var seconds: Double { options.minutes * 60 }

    /// Runs the soak; returns what went wrong beyond the ledger's violations (which it also
    /// lists).
    mutating func run() -> [String] {
        var problems: [String] = []
        let check = SoakCheck(socket: daemon.socket, ledger: ledger, retention: options.retentionSeconds,
                              pruneSlack: options.pruneSlack)
        if let p = self.check(check, "initial check") { return [p] }
        let dcs = ledger.contents.withLock { $0.admin.datacenters.keys.sorted() }
        var workers: [@Sendable () -> Void] = (0..<options.clients).map { i in
            let c = SoakClient(index: i, socket: daemon.socket, seed: options.seed &* 1_000_003 &+ UInt64(i),
                               rate: options.rate, maxLive: options.maxLive, ledger: ledger, gate: gate, metrics: metrics)
            return { c.run() }
        }
        let watcher = SoakWatcher(socket: daemon.socket, ledger: ledger, gate: gate, metrics: metrics)
        let admin = SoakAdmin(socket: daemon.socket, seed: options.seed &+ 77, interval: options.adminEvery,
                              datacenters: dcs, ledger: ledger, gate: gate, metrics: metrics)
        workers += [{ watcher.run() }, { admin.run() }]
        let finished = DispatchGroup()
        for w in workers {
            finished.enter()
            Thread { w(); finished.leave() }.start()
        }
        gate.open()
        var rng = SeededRandom(seed: options.seed ^ 0x6b69_6c6c)
        let end = metrics.started + seconds
        while problems.isEmpty {
            let killAt = monotonicSeconds() + options.killEvery * (0.5 + rng.unit())
            let until = min(killAt, end)
            while monotonicSeconds() < until {
                if let b = daemon.residentBytes() { metrics.rss(b, beforeKill: false) }
                soakSleep(min(1, until - monotonicSeconds())) { true }
            }
            if killAt >= end { break }
            guard let rss = daemon.residentBytes() else {
                problems.append("karstd was gone before kill \(kills + 1): it died by itself")
                break
            }
            metrics.rss(rss, beforeKill: true)
            // Mostly kill with a call in flight (waiting at most 250 ms for one).
            if rng.unit() < 0.8 {
                let until = monotonicSeconds() + 0.25
                while metrics.inFlight.load(ordering: .relaxed) == 0 && monotonicSeconds() < until { usleep(100) }
            }
            gate.close()
            let killedAt = monotonicSeconds()
            daemon.kill9()
            kills += 1
            do { try daemon.restart() } catch {
                problems.append("restart \(restarts + 1): \(error)")
                break
            }
            restarts += 1
            restartSeconds.append(monotonicSeconds() - killedAt)
            guard gate.waitUntilParked(workers.count, seconds: 60) else {
                problems.append("after restart \(restarts): the workers did not all stop within 60 s")
                break
            }
            if let p = self.check(check, "after restart \(restarts)") { problems.append(p) }
            gate.open()
        }
        gate.close()
        gate.stop()
        if !problems.isEmpty { daemon.kill9() }
        if finished.wait(timeout: .now() + 90) == .timedOut { problems.append("the workers did not stop within 90 s") }
        guard problems.isEmpty else { return problems }
        if let p = self.check(check, "final check") { problems.append(p) }
        // A graceful stop, a restart, the same check once more, a graceful stop, --check-state.
        for round in 1...2 {
            let status = daemon.terminate()
            sigtermStatus.append(status)
            if status != 0 { problems.append("karstd on SIGTERM: " + (status.map { "exit status \($0)" } ?? "still running after 30 s")) }
            guard round == 1, problems.isEmpty else { break }
            do { try daemon.restart() } catch {
                problems.append("restart after SIGTERM: \(error)")
                break
            }
            if let p = self.check(check, "after a graceful restart") { problems.append(p) }
        }
        do {
            let result = try daemon.checkState()
            checkState = result
            if result.0 != 0 { problems.append("karstd --check-state exited \(result.0)") }
        } catch {
            problems.append("karstd --check-state could not run: \(error)")
        }
        return problems
    }

    /// One check; a problem when the daemon could not be read at all.
    private mutating func check(_ check: SoakCheck, _ name: String) -> String? {
        do {
            let started = monotonicSeconds()
            let outcome = try check.run(name)
            checks.append(CheckRecord(at: started - metrics.started, name: name, outcome: outcome,
                                      seconds: monotonicSeconds() - started))
            return nil
        } catch {
            return "\(name): the daemon could not be read: \(error)"
        }
    }
}
