import Foundation

/// After the daemon died: saves the last frames each connection sent (every file replayable as
/// it stands, e.g. `socat - UNIX-CONNECT:SOCK < file`: each frame ends in its NUL), then replays
/// them one at a time against fresh daemons to find the frame that kills one on its own.
enum FuzzCrash {
    /// Saves `<dir>/crash-<n>/conn-<k>.bin` with an index of what each frame was, and copies of
    /// the frames to `/tmp/fuzz-crash-<n>-conn<k>.bin`. Returns report lines.
    static func save(_ results: [FuzzWorker.Result], in dir: String, crash n: Int) -> [String] {
        let folder = dir + "/crash-\(n)"
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let lines = ["last frames of each connection: \(folder)/conn-*.bin (index: conn-*.txt), copies /tmp/fuzz-crash-\(n)-conn*.bin"]
        for r in results where !r.recent.isEmpty {
            let bytes = Data(r.recent.flatMap(\.bytes))
            let index = r.recent.enumerated().map { "\($0.offset)\t\($0.element.bytes.count) bytes\t\($0.element.method)\t\($0.element.damage)" }
            try? bytes.write(to: URL(fileURLWithPath: folder + "/conn-\(r.index).bin"))
            try? (index.joined(separator: "\n") + "\n").write(toFile: folder + "/conn-\(r.index).txt", atomically: true, encoding: .utf8)
            try? bytes.write(to: URL(fileURLWithPath: "/tmp/fuzz-crash-\(n)-conn\(r.index).bin"))
        }
        return lines + isolate(results.flatMap(\.recent), crash: n)
    }

    /// Replays `frames` one at a time on a fresh (in-memory) daemon until it dies, then sends the
    /// last frame alone to another fresh daemon.
    private static func isolate(_ frames: [FuzzFrame], crash n: Int) -> [String] {
        guard let culprit = firstKiller(frames) else {
            return ["replaying the \(frames.count) saved frames one at a time did not kill a fresh daemon "
                + "(the crash needs state, timing or several connections)"]
        }
        let path = "/tmp/fuzz-crash-\(n)-frame.bin"
        try? Data(culprit.bytes).write(to: URL(fileURLWithPath: path))
        let alone = firstKiller([culprit]) != nil
        let text = String(decoding: culprit.bytes.prefix(400), as: UTF8.self).debugDescription
        return ["the frame that killed a fresh daemon: \(path) (\(culprit.bytes.count) bytes, \(culprit.method) [\(culprit.damage)]); "
                + (alone ? "reproduced alone on another fresh daemon" : "alone it did not kill a fresh daemon"),
                "  \(text)"]
    }

    /// The first frame after which a fresh daemon is dead, sending them in order on one
    /// connection (reconnecting when the daemon closes it).
    private static func firstKiller(_ frames: [FuzzFrame]) -> FuzzFrame? {
        guard let daemon = try? FuzzDaemon.start(durable: false) else { return nil }
        defer { daemon.stop() }
        var conn: FuzzSocket?
        var inbox = FuzzInbox()
        for (i, f) in frames.enumerated() {
            if conn == nil, case .success(let s) = FuzzSocket.connect(daemon.socketPath) {
                conn = s
                inbox = FuzzInbox()
            }
            guard let c = conn else { break }
            let end = FuzzExchange.batch(c, f.bytes, token: "replay-\(i)", &inbox,
                                         deadline: fuzzClock() + (f.opensStream ? 0.1 : 3)) { _, _ in }
            if end != .done { c.close(); conn = nil }
            usleep(end == .done ? 0 : 100_000)
            if daemon.hasCrashed { return f }
        }
        return nil
    }
}
