import Foundation

/// Flood scenarios a and b: more connections than `max_connections` at once, and thousands of
/// connections held open without a word.
enum FloodConnections {
    /// a. `limit + extra` non-blocking connects in one burst against `max_connections = limit`.
    static func overLimit(limit: Int, extra: Int) throws -> FloodRow {
        let stage = try FloodStage(server: ["max_connections": "\(limit)"])
        let (sockets, refused, _) = FloodSockets.open(stage.daemon.socketPath, count: limit + extra, retry: false)
        let seen = FloodSockets.watch(sockets, seconds: 3)
        let tooMany = seen.frames["io.karst.Protocol.TooManyConnections"] ?? 0
        let happened = "\(limit + extra) connects in one burst (the canary holds 1 of the \(limit) places): "
            + "\(seen.stillOpen) served, \(tooMany) answered TooManyConnections and closed, "
            + (refused.isEmpty ? "none refused at connect" : "refused at connect: " + refusedText(refused))
            + (seen.closedAt.count > tooMany ? "; \(seen.closedAt.count - tooMany) closed without a frame" : "")
        return stage.finish("a. \(limit)+\(extra) connections", limit: "max_connections = \(limit); listen backlog 256",
                            happened: happened, clients: sockets)
    }

    /// b. `count` connections opened and left idle, with `max_connections` above that and an
    /// idle timeout of `idleTimeout` seconds; watched for `hold` seconds.
    static func idle(count: Int, idleTimeout: Int, hold: Double) throws -> FloodRow {
        let stage = try FloodStage(server: ["max_connections": "\(count + 64)", "idle_timeout_seconds": "\(idleTimeout)"])
        let t = fuzzClock()
        let (sockets, refused, retries) = FloodSockets.open(stage.daemon.socketPath, count: count, retry: true)
        let opened = fuzzClock()
        sleep(2)
        let openKB = stage.daemon.memory()?.rss ?? 0
        let seen = FloodSockets.watch(sockets, seconds: hold, since: opened)
        let perConnection = Double(openKB - stage.startKB) * 1024 / Double(max(sockets.count, 1))
        let happened = "\(sockets.count) opened in \(String(format: "%.1f", opened - t)) s (\(retries) connects retried after EAGAIN"
            + (refused.isEmpty ? ")" : "; refused: " + refusedText(refused) + ")")
            + "; RSS with all open \(openKB / 1024) MiB (≈ \(Int(perConnection)) B per connection); counted from the last "
            + "connect: " + seen.summary
        return stage.finish("b. \(count) idle connections", limit: "idle_timeout_seconds = \(idleTimeout); max_connections = \(count + 64)",
                            happened: happened, clients: sockets)
    }

    static func refusedText(_ refused: [String: Int]) -> String {
        refused.sorted { $0.key < $1.key }.map { "\($0.value) × \($0.key)" }.joined(separator: ", ")
    }
}
