import KarstClient
import KarstProtocol

/// A client streaming every event (`Watch`), reconnecting after each kill (and after a
/// `SlowConsumer`). Each event's job goes to the ledger, which then holds the daemon to it: an
/// event is published only after its batch is committed, so whatever was streamed — even for a
/// call whose reply was lost — must survive the kill.
final class SoakWatcher: Sendable {
    let socket: String
    let ledger: SoakLedger
    let gate: SoakGate
    let metrics: SoakMetrics

    init(socket: String, ledger: SoakLedger, gate: SoakGate, metrics: SoakMetrics) {
        (self.socket, self.ledger, self.gate, self.metrics) = (socket, ledger, gate, metrics)
    }

    func run() {
        var generation = 0
        while let g = gate.enter(after: generation) {
            generation = g
            while gate.admits(g), stream(g) {}
        }
    }

    /// One Watch call; true to call again at once (the daemon ended it: SlowConsumer).
    private func stream(_ g: Int) -> Bool {
        guard let c = try? VarlinkConnection(path: socket) else { return false }
        defer { c.close() }
        // Short reads, so a quiet stream still notices the gate closing.
        c.setReceiveTimeout(seconds: 0.5)
        do { try c.stream("io.karst.Scheduler.Watch") } catch { return false }
        metrics.watch(session: true)
        while gate.admits(g) {
            let reply: VarlinkReply.Parsed
            do {
                reply = try c.receive()
            } catch {
                if soakIsReceiveTimeout(error) { continue }
                return false  // the daemon died
            }
            if let e = reply.error {
                if e.name == "io.karst.Protocol.SlowConsumer" {
                    metrics.watch(slow: true)
                    return true
                }
                ledger.violation("Watch ended with \(e)")
                return false
            }
            guard let job = SoakWireJob(reply.parameters["event"]?.objectValue?["job"]) else {
                ledger.violation("Watch streamed something that is not an event: \(reply.parameters)")
                continue
            }
            ledger.watched(label: job.label, id: job.id, state: job.state)
            metrics.watch(events: 1)
            if !reply.continues { return true }
        }
        return false
    }
}
