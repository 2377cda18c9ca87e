import Foundation

/// Flood scenarios c and d: frames that never end — hundreds of half-written ones left hanging,
/// and one that goes on and on.
enum FloodPartial {
    /// The start of a valid call, to be followed by filler inside its string and no NUL.
    static let opening = Array(#"{"method":"io.karst.Protocol.Ping","parameters":{"text":""#.utf8)

    /// c. `count` connections each send `bytes` of a frame (a call's start, then filler inside a
    /// string) and no NUL, then wait; the daemon's idle timeout is `idleTimeout` seconds.
    static func halfWritten(count: Int, bytes: Int, idleTimeout: Int, hold: Double) throws -> FloodRow {
        let stage = try FloodStage(server: ["idle_timeout_seconds": "\(idleTimeout)", "max_connections": "\(count + 64)"])
        let (sockets, refused, _) = FloodSockets.open(stage.daemon.socketPath, count: count, retry: true)
        let partial = opening + [UInt8](repeating: UInt8(ascii: "x"), count: max(0, bytes - opening.count))
        let written = sockets.reduce(0) { $0 + FloodSockets.send($1, partial, seconds: 5) }
        let sent = fuzzClock()
        sleep(1)
        let heldKB = stage.daemon.memory()?.rss ?? 0
        let seen = FloodSockets.watch(sockets, seconds: hold, since: sent)
        let happened = "\(sockets.count) connections sent \(written / 1024) KiB in all (\(bytes / 1024) KiB each, no NUL)"
            + (refused.isEmpty ? "" : ", \(refused.values.reduce(0, +)) refused at connect")
            + "; RSS holding them \(heldKB / 1024) MiB; counted from the last byte sent: " + seen.summary
        return stage.finish("c. \(count) half-written frames", limit: "idle_timeout_seconds = \(idleTimeout); ≤ max_message_bytes buffered per connection",
                            happened: happened, clients: sockets)
    }

    /// d. One connection writes a frame without end (64 KiB at a time) until the daemon answers
    /// and closes, or `cap` bytes or 30 s have gone.
    static func endless(cap: Int = 64 << 20) throws -> FloodRow {
        let stage = try FloodStage(server: [:])
        guard case .success(let s) = FuzzSocket.connect(stage.daemon.socketPath) else {
            throw ValidationErrorText("cannot connect to \(stage.daemon.socketPath)")
        }
        let filler = [UInt8](repeating: UInt8(ascii: "x"), count: 64 << 10)
        var chunk = opening + filler
        var offset = 0
        var inbox = FuzzInbox()
        var sent = 0, sentAtReply = 0
        var reply: String?
        var closed = false
        let start = fuzzClock()
        var replyAt = 0.0
        while !closed, sent < cap, fuzzClock() - start < 30 {
            let events = s.wait(seconds: 0.1, writable: true)
            if events & Int16(POLLIN | POLLHUP | POLLERR) != 0 {
                closed = !s.read(into: &inbox.bytes)
                if reply == nil, let frame = inbox.next() {
                    reply = String(decoding: frame, as: UTF8.self)
                    sentAtReply = sent
                    replyAt = fuzzClock() - start
                }
            } else if events & Int16(POLLOUT) != 0 {
                guard let n = s.write(chunk[offset...]) else { continue }
                sent += n
                offset += n
                if offset == chunk.count { (chunk, offset) = (filler, 0) }
            }
        }
        let happened = "wrote \(sent) bytes without a NUL in all; "
            + (reply.map { "by its answer (\(fuzzMillis(replyAt)) ms, \(sentAtReply) bytes written) the daemon answered \($0)" } ?? "no answer")
            + (closed ? " and closed the connection" : "; the connection stayed open")
        return stage.finish("d. endless frame", limit: "max_message_bytes = 1048576", happened: happened, clients: [s])
    }
}
