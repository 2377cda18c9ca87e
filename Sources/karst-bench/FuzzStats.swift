import Foundation

/// What one fuzzing connection counted; merged across connections for the report.
struct FuzzStats: Sendable {
    var frames = 0
    var bytes = 0
    var framesByMethod: [String: Int] = [:]
    var framesByDamage: [String: Int] = [:]
    /// Replies by error name; successful replies under "(ok)", stream replies under "(stream)".
    var replies: [String: Int] = [:]
    var nonVarlink = 0
    /// The first few frames that were not Varlink replies, with why.
    var nonVarlinkSamples: [String] = []
    var syncs = 0
    var reconnects = 0
    /// The daemon ended the connection (after InvalidMessage, FrameTooLarge, …).
    var closedByDaemon = 0
    /// Connections closed by the fuzzer after a `Watch` stream opened.
    var watchesCapped = 0
    /// Exchanges (no Watch in them) that went unanswered for the whole sync timeout.
    var stalls = 0
    var stallSamples: [String] = []
    /// Exchanges answered, but after more than a second.
    var slowExchanges = 0
    var slowSamples: [String] = []
    /// `connect` failures, by errno name.
    var connectErrors: [String: Int] = [:]

    mutating func record(_ frame: FuzzFrame) {
        frames += 1
        bytes += frame.bytes.count
        framesByMethod[frame.method, default: 0] += 1
        for kind in frame.damage.split(separator: "+") { framesByDamage[String(kind), default: 0] += 1 }
    }

    mutating func notVarlink(_ frame: ArraySlice<UInt8>, _ reason: String) {
        nonVarlink += 1
        if nonVarlinkSamples.count < 5 {
            let text = String(decoding: frame.prefix(300), as: UTF8.self)
            nonVarlinkSamples.append("\(reason): \(text.debugDescription)")
        }
    }

    mutating func merge(_ o: FuzzStats) {
        frames += o.frames
        bytes += o.bytes
        framesByMethod.merge(o.framesByMethod, uniquingKeysWith: +)
        framesByDamage.merge(o.framesByDamage, uniquingKeysWith: +)
        replies.merge(o.replies, uniquingKeysWith: +)
        nonVarlink += o.nonVarlink
        nonVarlinkSamples += o.nonVarlinkSamples.prefix(max(0, 5 - nonVarlinkSamples.count))
        syncs += o.syncs
        reconnects += o.reconnects
        closedByDaemon += o.closedByDaemon
        watchesCapped += o.watchesCapped
        stalls += o.stalls
        stallSamples += o.stallSamples.prefix(max(0, 5 - stallSamples.count))
        slowExchanges += o.slowExchanges
        slowSamples += o.slowSamples.prefix(max(0, 8 - slowSamples.count))
        connectErrors.merge(o.connectErrors, uniquingKeysWith: +)
    }
}

/// Lines of a count table, largest first: `  name  count`.
func fuzzCountLines(_ counts: [String: Int], top: Int = .max) -> [String] {
    let rows = counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.prefix(top)
    let width = rows.map(\.key.count).max() ?? 0
    return rows.map { "  " + $0.key.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + String($0.value) }
}
