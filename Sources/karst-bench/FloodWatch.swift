import Foundation
import KarstClient

/// Flood scenario e: a `Watch` (more: true) whose client never reads, while another client
/// submits thousands of jobs with big labels, each of them events the watch must carry.
enum FloodWatch {
    static func slowWatcher(jobs: Int, labelBytes: Int, bufferEvents: Int = 10_000) throws -> FloodRow {
        let stage = try FloodStage(server: ["watch_buffer_events": "\(bufferEvents)"])
        guard case .success(let watcher) = FuzzSocket.connect(stage.daemon.socketPath) else {
            throw ValidationErrorText("cannot connect to \(stage.daemon.socketPath)")
        }
        let watch = FuzzValue.object([("method", .string("io.karst.Scheduler.Watch")), ("parameters", .object([])), ("more", .bool(true))])
        FloodSockets.send(watcher, watch.framed, seconds: 2)
        usleep(200_000)
        let (took, failures) = try submit(stage.daemon.socketPath, jobs: jobs, labelBytes: labelBytes)
        sleep(2)
        let peakKB = stage.daemon.memory()?.peak ?? 0
        // Now read what the watcher was sent: the events its socket holds, and how the watch ended.
        var inbox = FuzzInbox()
        var events = 0
        var ending = "no end of the watch seen"
        var quietSince = fuzzClock()
        while fuzzClock() - quietSince < 2 {
            guard watcher.wait(seconds: 0.2) != 0 else { continue }
            let open = watcher.read(into: &inbox.bytes)
            quietSince = fuzzClock()
            while let frame = inbox.next() {
                switch FuzzReplyCheck.check(frame) {
                case .success(let r) where r.error == nil: events += 1
                default: ending = "ended with " + String(decoding: frame.prefix(200), as: UTF8.self)
                }
            }
            if !open { break }
        }
        let happened = "\(jobs) Submits with \(labelBytes) B labels in \(String(format: "%.1f", took)) s (\(failures) refused) "
            + "while the watch never read; VmHWM by then \(peakKB / 1024) MiB; the watcher's socket then held \(events) events, \(ending)"
        return stage.finish("e. Watch never read, \(jobs) jobs", limit: "watch_buffer_events = \(bufferEvents)",
                            happened: happened, clients: [watcher])
    }

    /// Pipelined Submits (64 in flight) of small jobs with one big label; the seconds taken and
    /// how many were refused.
    private static func submit(_ path: String, jobs: Int, labelBytes: Int) throws -> (Double, Int) {
        let c = try VarlinkConnection(path: path)
        defer { c.close() }
        c.setReceiveTimeout(seconds: 30)
        let spec = FuzzValue.object([
            ("origin", .string("gba")), ("priorityClass", .string("batch")),
            ("resources", .object([("cpu", .number("0.001")), ("memoryGiB", .number("0.001"))])),
            ("labels", .object([("blob", .string(String(repeating: "x", count: labelBytes)))])),
        ])
        let frame = FuzzValue.object([("method", .string("io.karst.Scheduler.Submit")), ("parameters", .object([("job", spec)]))]).framed
        let start = fuzzClock()
        var sent = 0, answered = 0, refused = 0
        while answered < jobs {
            while sent < jobs, sent - answered < 64 {
                try c.send(frame)
                sent += 1
            }
            if try c.receive().error != nil { refused += 1 }
            answered += 1
        }
        return (fuzzClock() - start, refused)
    }
}
