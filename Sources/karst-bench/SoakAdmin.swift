import KarstClient
import KarstCore
import KarstProtocol

/// The admin client: about every `interval` seconds one of Reload, Drain, SetOffline, Stats or
/// Topology — and Resume first whenever a data centre is out of service (as acknowledged), so at
/// most one is. Writes what each acknowledged change obliges the daemon to keep to the ledger.
final class SoakAdmin: Sendable {
    let socket: String
    let seed: UInt64
    let interval: Double
    let datacenters: [String]
    let ledger: SoakLedger
    let gate: SoakGate
    let metrics: SoakMetrics

    init(socket: String, seed: UInt64, interval: Double, datacenters: [String], ledger: SoakLedger, gate: SoakGate,
         metrics: SoakMetrics) {
        (self.socket, self.seed, self.interval, self.datacenters) = (socket, seed, interval, datacenters)
        (self.ledger, self.gate, self.metrics) = (ledger, gate, metrics)
    }

    func run() {
        var rng = SeededRandom(seed: seed)
        var generation = 0
        while let g = gate.enter(after: generation) {
            generation = g
            guard let c = try? VarlinkConnection(path: socket) else { continue }
            c.setReceiveTimeout(seconds: 30)
            while gate.admits(g) {
                soakSleep(interval * (0.5 + rng.unit())) { gate.admits(g) }
                guard gate.admits(g), step(c, &rng) else { break }
            }
            c.close()
        }
    }

    /// One call; false when the connection died.
    private func step(_ c: VarlinkConnection, _ rng: inout SeededRandom) -> Bool {
        let out = ledger.contents.withLock { $0.admin.datacenters.first { $0.value.state != "active" }?.key }
        if let out { return change(c, .resume, out, to: "active") }
        let dc = datacenters[Int(rng.next() % UInt64(datacenters.count))]
        switch rng.unit() {
        case ..<0.3: return reload(c)
        case ..<0.55: return change(c, .drain, dc, to: "draining")
        case ..<0.75: return change(c, .setOffline, dc, to: "offline")
        case ..<0.9: return !c.soakCall(.stats, "io.karst.Admin.Stats", [:], metrics: metrics).isLost
        default: return !c.soakCall(.topology, "io.karst.Admin.Topology", [:], metrics: metrics).isLost
        }
    }

    private func change(_ c: VarlinkConnection, _ call: SoakCall, _ dc: String, to state: String) -> Bool {
        let method = "io.karst.Admin." + call.name.dropFirst("Admin.".count)
        switch c.soakCall(call, method, ["datacenter": .string(dc)], metrics: metrics) {
        case .ok(let p):
            let now = p["datacenter"]?.objectValue?["state"]?.stringValue
            ledger.contents.withLock { l in
                if now != state { l.violations.append("\(call.name) \(dc) acknowledged with the data centre \(now ?? "missing")") }
                l.admin.datacenters[dc] = (state, nil)
            }
        case .refused(let e):
            ledger.violation("\(call.name) \(dc) refused: \(e)")
        case .lost:
            ledger.contents.withLock { $0.admin.datacenters[dc, default: ("active", nil)].unresolved = state }
            return false
        }
        return true
    }

    private func reload(_ c: VarlinkConnection) -> Bool {
        switch c.soakCall(.reload, "io.karst.Admin.Reload", [:], metrics: metrics) {
        case .ok(let p):
            let g = p["generation"]?.numberValue.map { Int($0) }
            ledger.contents.withLock { l in
                if let known = l.admin.generation, g != known + 1 {
                    l.violations.append("Reload acknowledged generation \(g.map(String.init) ?? "none") after \(known)")
                }
                l.admin.generation = g
            }
        case .refused(let e):
            ledger.violation("Reload of the unchanged configuration refused: \(e)")
        case .lost:
            ledger.contents.withLock { $0.admin.reloadUnresolved = true }
            return false
        }
        return true
    }
}
