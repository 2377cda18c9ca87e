import KarstCore
import KarstProtocol
import KarstWire

/// Jobs as the control protocol shows them, one `io.karst.Scheduler.Job` per line: the same
/// mapping (`WireMapping`) and the same generated writer as the daemon's replies (queue
/// positions left out), so whatever reads the daemon's jobs reads a replay's.
final class JobLines {
    private(set) var text = ""

    /// Renders every job of `state`, in id order.
    func render(_ state: borrowing SchedulerState) {
        var out: [UInt8] = []
        for job in state.jobs() {
            out += WireMapping.job(job, in: state).encoded
            out.append(UInt8(ascii: "\n"))
        }
        text = String(decoding: out, as: UTF8.self)
    }
}
