import Foundation
import KarstClient
import KarstCore
import KarstProtocol

/// One load client: a seeded mix of Submit, SubmitBatch, dry runs, Cancel, Hold, Release,
/// Complete, Get and List over its own connection, one call at a time at a steady rate. It
/// reconnects through the gate after each kill and writes every outcome to the ledger. It keeps
/// at most `maxLive` of its jobs unfinished (cancelling and completing at the bound), so the
/// live state of a long soak stays bounded.
final class SoakClient: Sendable {
    /// One of this client's jobs that may still change, as last seen.
    struct Mine {
        var label: String
        var id: String
        var state: String
    }

    /// What a client carries from one connection to the next.
    struct Local {
        var rng: SeededRandom
        var live: [Mine] = []
        var submitted = 0
        var batches = 0
    }

    let index: Int
    let socket: String
    let seed: UInt64
    let rate: Double
    let maxLive: Int
    let ledger: SoakLedger
    let gate: SoakGate
    let metrics: SoakMetrics

    init(index: Int, socket: String, seed: UInt64, rate: Double, maxLive: Int, ledger: SoakLedger, gate: SoakGate,
         metrics: SoakMetrics) {
        (self.index, self.socket, self.seed, self.rate, self.maxLive) = (index, socket, seed, rate, maxLive)
        (self.ledger, self.gate, self.metrics) = (ledger, gate, metrics)
    }

    func run() {
        var local = Local(rng: SeededRandom(seed: seed))
        var generation = 0
        while let g = gate.enter(after: generation) {
            generation = g
            guard let c = try? VarlinkConnection(path: socket) else { continue }
            c.setReceiveTimeout(seconds: 30)
            var nextAt = monotonicSeconds()
            while gate.admits(g) {
                nextAt = max(nextAt + 1 / rate, monotonicSeconds() - 1)
                soakSleep(nextAt - monotonicSeconds()) { gate.admits(g) }
                guard gate.admits(g), step(c, &local) else { break }
            }
            c.close()
        }
    }

    /// One call; false when the connection died.
    private func step(_ c: VarlinkConnection, _ l: inout Local) -> Bool {
        let roll = l.rng.unit() * 100
        if l.live.count >= maxLive {
            return roll < 50 ? onJob(c, &l, .cancel, nil) : roll < 80 ? onJob(c, &l, .complete, "running") : onJob(c, &l, .get, nil)
        }
        switch roll {
        case ..<30: return submit(c, &l, count: 0)
        case ..<36: return submit(c, &l, count: 2 + Int(l.rng.next() % 4))
        case ..<42: return dryRun(c, &l)
        case ..<54: return onJob(c, &l, .cancel, nil)
        case ..<62: return onJob(c, &l, .hold, "pending")
        case ..<70: return onJob(c, &l, .release, "held")
        case ..<82: return onJob(c, &l, .complete, "running")
        case ..<90: return onJob(c, &l, .get, nil)
        default:
            let states = ["pending", "running", "held", "succeeded"]
            var p: JSONObject = ["limit": .number(100)]
            if l.rng.next() % 2 == 0 { p["state"] = .string(states[Int(l.rng.next() % 4)]) }
            if l.rng.next() % 2 == 0 {
                return !c.soakCall(.listSummaries, "io.karst.Scheduler.ListSummaries", p, metrics: metrics).isLost
            }
            return !c.soakCall(.list, "io.karst.Scheduler.List", p, metrics: metrics).isLost
        }
    }

    /// Submit (`count` 0) or SubmitBatch of `count` jobs, each with a unique label.
    private func submit(_ c: VarlinkConnection, _ l: inout Local, count: Int) -> Bool {
        let labels = (0..<max(count, 1)).map { _ in l.submitted += 1; return "c\(index)-\(l.submitted)" }
        let specs = labels.map { SoakSpec.job(label: $0, &l.rng) }
        var batch: Int? = nil
        if count > 0 {
            l.batches += 1
            batch = index * 10_000_000 + l.batches
        }
        ledger.sending(labels, batch: batch, at: soakRealtime())
        let reply = count == 0
            ? c.soakCall(.submit, "io.karst.Scheduler.Submit", ["job": .object(specs[0])], metrics: metrics)
            : c.soakCall(.submitBatch, "io.karst.Scheduler.SubmitBatch", ["jobs": .array(specs.map { .object($0) })], metrics: metrics)
        switch reply {
        case .ok(let p):
            let jobs = count == 0 ? [SoakWireJob(p["job"])] : (p["jobs"]?.arrayValue ?? []).map { SoakWireJob($0) }
            guard jobs.count == labels.count else {
                ledger.violation("\(labels.first!)…: \(labels.count) submitted, \(jobs.count) in the reply")
                return true
            }
            for (label, job) in zip(labels, jobs) {
                guard let job, job.label == label else {
                    ledger.violation("the reply to submitting \(label) is not that job")
                    continue
                }
                ledger.submitted(label, id: job.id)
                l.live.append(Mine(label: label, id: job.id, state: job.state))
            }
        case .refused: ledger.submit(labels, .refused)
        case .lost:
            ledger.submit(labels, .lost)
            return false
        }
        return true
    }

    /// A dry run: answered, never stored (its label, `d…`, must never appear).
    private func dryRun(_ c: VarlinkConnection, _ l: inout Local) -> Bool {
        l.submitted += 1
        let spec = SoakSpec.job(label: "d\(index)-\(l.submitted)", &l.rng)
        return !c.soakCall(.dryRun, "io.karst.Scheduler.Submit", ["job": .object(spec), "dryRun": .bool(true)],
                                  metrics: metrics).isLost
    }

    /// Cancel, Hold, Release, Complete or Get of one of this client's live jobs in `state`.
    private func onJob(_ c: VarlinkConnection, _ l: inout Local, _ call: SoakCall, _ state: String?) -> Bool {
        let candidates = l.live.indices.filter { state == nil || l.live[$0].state == state }
        guard !candidates.isEmpty else { return call == .get ? true : submit(c, &l, count: 0) }
        let i = candidates[Int(l.rng.next() % UInt64(candidates.count))]
        let job = l.live[i]
        var p: JSONObject = ["id": .string(job.id)]
        let effect: SoakExpectation?
        let method: String
        switch call {
        case .cancel: (method, effect) = ("Cancel", .final("cancelled"))
        case .hold: (method, effect) = ("Hold", .held)
        case .release: (method, effect) = ("Release", .live)
        case .complete:
            let outcome = l.rng.next() % 10 < 7 ? "succeeded" : "failed"
            p["outcome"] = .string(outcome)
            p["message"] = .string("soak")
            (method, effect) = ("Complete", .final(outcome))
        default: (method, effect) = ("Get", nil)
        }
        switch c.soakCall(call, "io.karst.Scheduler." + method, p, metrics: metrics) {
        case .ok(let reply):
            let now = SoakWireJob(reply["job"])
            if let effect {
                ledger.acknowledged(job.label, effect)
                if let now, !effect.states.contains(now.state) {
                    ledger.violation("\(method) \(job.id) acknowledged with the job \(now.state)")
                }
            } else if let now {
                ledger.read(job.label, now.state)
            }
            if let now, !SoakExpectation.finalStates.contains(now.state) {
                l.live[i].state = now.state
            } else {
                l.live.remove(at: i)
            }
        case .refused:
            // Finished (by the modelled executor) or moved on since: leave it to the daemon.
            l.live.remove(at: i)
        case .lost:
            if let effect { ledger.unresolved(job.label, effect) }
            l.live.remove(at: i)
            return false
        }
        return true
    }
}
