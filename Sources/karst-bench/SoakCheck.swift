import KarstClient
import KarstProtocol

/// Reads the daemon's state back (List of every job, Topology, Stats) while every worker is
/// parked, and holds it against the ledger: every acknowledged submit exists exactly once under
/// its id, every job shows a state its acknowledged calls allow, a call whose reply never came
/// happened once or not at all (a batch: all of it or none), and that is decided here for good.
/// A job may be missing only if retention can have pruned it: seen by an earlier check, allowed
/// to have finished, and sent longer ago than the retention (less `pruneSlack`).
struct SoakCheck {
    /// What one check saw.
    struct Outcome {
        var jobs = 0
        var violations = 0
        /// Lost submits decided: applied, or not.
        var applied = 0
        var notApplied = 0
        var pruned = 0
        /// The highest job number listed.
        var highestJob = 0
    }

    let socket: String
    let ledger: SoakLedger
    let retention: Double
    let pruneSlack: Double

    func run(_ name: String) throws -> Outcome {
        let c = try VarlinkConnection(path: socket)
        defer { c.close() }
        c.setReceiveTimeout(seconds: 60)
        let listed = try c.call("io.karst.Scheduler.List", ["limit": .number(100_000)])["jobs"]?.arrayValue ?? []
        let dcs = try c.call("io.karst.Admin.Topology")["datacenters"]?.arrayValue ?? []
        let generation = try c.call("io.karst.Admin.Stats")["generation"]?.numberValue.map { Int($0) }
        let now = soakRealtime()
        var out = Outcome(jobs: listed.count)
        out.highestJob = listed.compactMap { $0.objectValue?["id"]?.stringValue?.dropFirst(4) }.compactMap { Int($0) }.max() ?? 0
        var failures: [(text: String, key: String?)] = []
        let fail = { (text: String, key: String?) in failures.append(("\(name): \(text)", key)) }
        ledger.contents.withLock { l in
            if listed.count >= 100_000 { fail("List returned its limit of 100000: the ledger cannot see every job", nil) }
            let found = index(listed, l.jobs, fail)
            for label in Array(l.jobs.keys) {
                judge(label, &l.jobs[label]!, found[label]?.first, now, &out, fail)
            }
            judgeAdmin(dcs, generation, &l.admin, fail)
            let before = l.violations.count
            for f in failures { l.report(f.key, f.text) }
            out.violations = l.violations.count - before
        }
        return out
    }

    /// The listed jobs by label; reports strangers, jobs stored twice, half-applied batches.
    private func index(_ listed: [JSONValue], _ jobs: [String: SoakJob], _ fail: (String, String?) -> Void)
        -> [String: [SoakWireJob]]
    {
        var found: [String: [SoakWireJob]] = [:]
        for v in listed {
            guard let j = SoakWireJob(v) else { fail("an unreadable job: \(v)", nil); continue }
            guard let label = j.label, jobs[label] != nil else {
                let dry = j.label?.hasPrefix("d") == true ? " (a dry run's label: a dry run was stored)" : ""
                fail("\(j.id) is labelled \(j.label ?? "nothing"), which no client sent\(dry)", "stranger:\(j.id)")
                continue
            }
            found[label, default: []].append(j)
        }
        for (label, js) in found where js.count > 1 {
            fail("\(label) is stored \(js.count) times: \(js.map(\.id).joined(separator: ", ")) (applied twice)", "twice:\(label)")
        }
        var batches: [Int: (present: Int, total: Int)] = [:]
        for (label, job) in jobs where job.submit == .lost {
            guard let b = job.batch else { continue }
            batches[b, default: (0, 0)].total += 1
            if found[label] != nil { batches[b]!.present += 1 }
        }
        for (b, n) in batches where n.present > 0 && n.present < n.total {
            fail("SubmitBatch \(b), its reply lost, was applied in part: \(n.present) of \(n.total) jobs", nil)
        }
        return found
    }

    /// Holds one job to the ledger, and decides what was unresolved.
    private func judge(_ label: String, _ job: inout SoakJob, _ here: SoakWireJob?, _ now: Double, _ out: inout Outcome,
                       _ fail: (String, String?) -> Void) {
        let id = job.id ?? here?.id ?? "?"
        switch job.submit {
        case .inFlight: fail("\(label) is still in flight while every client is parked", "flight:\(label)")
        case .refused, .notApplied:
            let why = job.submit == .refused ? "refused" : "found not applied by an earlier check"
            if let here { fail("\(label), \(why), exists as \(here.id)", "phantom:\(label)") }
            if let w = job.watchedID { fail("\(label), \(why), was streamed by Watch as \(w)", "phantom:\(label)") }
        case .lost:
            if let here {
                (job.submit, job.id) = (.acknowledged, here.id)
                out.applied += 1
            } else {
                job.submit = .notApplied
                out.notApplied += 1
                if let w = job.watchedID {
                    fail("\(label) was streamed by Watch as \(w) (so committed), but is missing", "phantom:\(label)")
                }
            }
        case .acknowledged: break
        }
        guard job.submit == .acknowledged else { return }
        var allowed = job.expect.states.union(job.unresolved?.states ?? [])
        if let last = job.lastState, SoakExpectation.finalStates.contains(last) { allowed = [last] }
        if let w = job.watchedFinal { allowed.formIntersection([w]) }
        guard let here else {
            guard !job.pruned else { return }
            if job.seen && !allowed.isDisjoint(with: SoakExpectation.finalStates) && now - job.sentAt > retention - pruneSlack {
                (job.pruned, job.unresolved) = (true, nil)
                out.pruned += 1
            } else {
                fail("\(label) (\(id)) is missing; acknowledged calls require \(allowed.sorted())"
                    + (job.seen ? ", and it was sent only \(Int(now - job.sentAt)) s ago" : ", and no check had seen it yet"),
                    "missing:\(label)")
            }
            return
        }
        if job.pruned { fail("\(label) (\(here.id)) is back after it had been pruned", "back:\(label)") }
        if here.id != id { fail("\(label) was acknowledged as \(id) but is stored as \(here.id)", "id:\(label)") }
        if let w = job.watchedID, w != here.id {
            fail("\(label) was streamed by Watch as \(w) but is stored as \(here.id)", "id:\(label)")
        }
        if !allowed.contains(here.state) {
            fail("\(label) (\(id)) is \(here.state); acknowledged calls allow only \(allowed.sorted())"
                + " [acknowledged: \(job.expect), unanswered: \(job.unresolved.map { "\($0)" } ?? "none"),"
                + " last seen: \(job.lastState ?? "never"), streamed final: \(job.watchedFinal ?? "none")]", "state:\(label)")
        }
        if let u = job.unresolved, u.states.contains(here.state), !job.expect.states.contains(here.state) { job.expect = u }
        if SoakExpectation.finalStates.contains(here.state) { job.expect = .final(here.state) }
        (job.unresolved, job.seen, job.lastState) = (nil, true, here.state)
    }

    /// Data-centre states and the configuration generation against the acknowledged admin calls.
    private func judgeAdmin(_ dcs: [JSONValue], _ generation: Int?, _ admin: inout SoakAdminLedger,
                            _ fail: (String, String?) -> Void) {
        for d in dcs {
            guard let o = d.objectValue, let dc = o["id"]?.stringValue, let state = o["state"]?.stringValue else { continue }
            let owed = admin.datacenters[dc] ?? ("active", nil)
            if state != owed.state && state != owed.unresolved {
                let unanswered = owed.unresolved.map { ", unanswered \($0)" } ?? ""
                fail("data centre \(dc) is \(state); acknowledged \(owed.state)\(unanswered)", nil)
            }
            admin.datacenters[dc] = (state, nil)
        }
        if let g = admin.generation, generation != g && !(admin.reloadUnresolved && generation == g + 1) {
            fail("configuration generation \(generation.map(String.init) ?? "missing"); acknowledged \(g)", nil)
        }
        (admin.generation, admin.reloadUnresolved) = (generation, false)
    }
}
