import Foundation

/// One fuzzing connection, run on a thread of its own. Sends its generated frames in batches,
/// each followed by a Ping with a unique text: replies come in call order, so once that Ping's
/// reply is read every reply to the batch has been read and checked. A batch ends early at a
/// frame that is no well-formed message (the daemon closes after answering it) or that opens a
/// `Watch` stream (waited for only briefly); then, or whenever the daemon closes the connection
/// or the sync does not come, the worker reconnects and goes on.
struct FuzzWorker: Sendable {
    let index: Int
    let socketPath: String
    let generator: FuzzGenerator
    let control: FuzzControl
    var batchSize = 32
    var ringSize = 64
    var syncTimeout = 10.0
    var watchCap = 0.05

    /// What a worker hands back when it ends.
    struct Result: Sendable {
        var index: Int
        var stats: FuzzStats
        var recent: [FuzzFrame]
    }

    func run() -> Result {
        var gen = generator
        var stats = FuzzStats()
        var ring = FuzzRing(capacity: ringSize)
        var conn: FuzzSocket?
        var inbox = FuzzInbox()
        var syncNumber = 0
        while !control.isStopped {
            if conn == nil {
                if syncNumber > 0 { stats.reconnects += 1 }
                guard let c = connect(&stats) else { break }
                conn = c
                inbox = FuzzInbox()
            }
            var batch: [UInt8] = []
            var count = 0
            var stream = false
            var last = false
            while count < batchSize, batch.count < 2 << 20, !last, control.claim() {
                let f = gen.next()
                stats.record(f)
                ring.append(f)
                batch += f.bytes
                count += 1
                stream = f.opensStream
                last = f.opensStream || f.closesConnection
            }
            if count == 0 { break }
            syncNumber += 1
            let token = "karst-fuzz-sync-\(index)-\(syncNumber)"
            let started = fuzzClock()
            let deadline = started + (stream ? watchCap : syncTimeout)
            let end = FuzzExchange.batch(conn!, batch, token: token, &inbox, deadline: deadline) { frame, checked in
                switch checked {
                case .failure(let problem): stats.notVarlink(frame, problem.reason)
                case .success(let r): stats.replies[r.error ?? (r.continues ? "(stream)" : "(ok)"), default: 0] += 1
                }
            }
            control.sent.add(count, ordering: .relaxed)
            switch end {
            case .done:
                stats.syncs += 1
                if fuzzClock() - started > 1 { slow(ring.frames.suffix(count), fuzzClock() - started, &stats) }
                continue
            case .closed: stats.closedByDaemon += 1
            case .timeout where stream: stats.watchesCapped += 1
            case .timeout:
                stats.stalls += 1
                if stats.stallSamples.count < 5 {
                    stats.stallSamples.append("connection \(index): no sync within \(syncTimeout) s after "
                        + ring.frames.suffix(count).map { "\($0.method)[\($0.damage)]" }.joined(separator: ", "))
                }
            }
            conn?.close()
            conn = nil
        }
        conn?.close()
        return Result(index: index, stats: stats, recent: ring.frames)
    }

    /// Notes an exchange the daemon took over a second to answer, and saves the first few to
    /// `/tmp/fuzz-slow-<connection>-<n>.bin` (replayable: each frame ends in its NUL).
    private func slow(_ frames: ArraySlice<FuzzFrame>, _ seconds: Double, _ stats: inout FuzzStats) {
        stats.slowExchanges += 1
        guard stats.slowSamples.count < 2 else { return }
        let path = "/tmp/fuzz-slow-\(index)-\(stats.slowSamples.count + 1).bin"
        _ = FileManager.default.createFile(atPath: path, contents: Data(frames.flatMap(\.bytes)))
        stats.slowSamples.append("\(String(format: "%.2f", seconds)) s for " + frames.map { "\($0.method)[\($0.damage)] \($0.bytes.count) B" }
            .joined(separator: ", ") + ": \(path)")
    }

    /// Connects, retrying for up to two seconds (a busy daemon's backlog may be full for a moment).
    private func connect(_ stats: inout FuzzStats) -> FuzzSocket? {
        for _ in 0..<100 where !control.isStopped {
            switch FuzzSocket.connect(socketPath) {
            case .success(let s): return s
            case .failure(let e):
                stats.connectErrors["\(e)", default: 0] += 1
                usleep(20_000)
            }
        }
        return nil
    }
}
