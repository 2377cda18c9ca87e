import Foundation
import KarstClient
import KarstCore
import KarstProtocol

/// How one soak call ended.
enum SoakReply {
    /// Acknowledged: the reply's parameters.
    case ok(JSONObject)
    /// Answered with an error: nothing of it was applied.
    case refused(VarlinkError)
    /// No reply: the connection died (the daemon was killed) with the call in flight.
    case lost

    var isLost: Bool {
        if case .lost = self { return true }
        return false
    }
}

/// The id, state and soak label of a `Job` object on the wire.
struct SoakWireJob {
    var id: String
    var state: String
    var label: String?

    init?(_ value: JSONValue?) {
        guard let o = value?.objectValue, let id = o["id"]?.stringValue, let state = o["state"]?.stringValue else { return nil }
        self.id = id
        self.state = state
        label = o["spec"]?.objectValue?["labels"]?.objectValue?["soak"]?.stringValue
    }
}

extension VarlinkConnection {
    /// Makes one call, counting its outcome and, when acknowledged, its latency.
    func soakCall(_ call: SoakCall, _ method: String, _ parameters: JSONObject, metrics: SoakMetrics) -> SoakReply {
        let sentAt = monotonicSeconds()
        metrics.inFlight.add(1, ordering: .relaxed)
        defer { metrics.inFlight.subtract(1, ordering: .relaxed) }
        do {
            try send(VarlinkCall(method: method, parameters: parameters).framed)
            let reply = try receive()
            if let error = reply.error {
                metrics.refused(call, error.name)
                return .refused(error)
            }
            metrics.acknowledged(call, sentAt: sentAt)
            return .ok(reply.parameters)
        } catch {
            metrics.lost(call)
            return .lost
        }
    }
}

/// CLOCK_REALTIME in seconds since the epoch.
func soakRealtime() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// Whether a client error is a read that timed out (the connection itself is fine).
func soakIsReceiveTimeout(_ error: any Error) -> Bool {
    if case ClientError.io(let reason) = error { return reason.hasPrefix("no reply within") }
    return false
}

/// Sleeps `seconds` in slices of at most 50 ms while `keepGoing` holds.
func soakSleep(_ seconds: Double, while keepGoing: () -> Bool) {
    let until = monotonicSeconds() + seconds
    while keepGoing() {
        let left = until - monotonicSeconds()
        if left <= 0 { return }
        usleep(UInt32(min(left, 0.05) * 1e6))
    }
}

/// An RFC 3339 time `seconds` from now (wall clock).
func soakRFC3339(secondsFromNow seconds: Double) -> String {
    Instant(secondsSinceEpoch: soakRealtime() + seconds).rfc3339
}
