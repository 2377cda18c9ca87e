import Foundation

/// Many raw connections at once: opening them as fast as `connect` allows, and watching what the
/// daemon does with them (the frames it sends, when it closes them).
enum FloodSockets {
    /// Opens up to `count` connections. With `retry`, a full listen backlog (`EAGAIN`) is waited
    /// out (1 ms, up to 10 s per connection); without, it is counted and the connection skipped.
    static func open(_ path: String, count: Int, retry: Bool) -> (sockets: [FuzzSocket], refused: [String: Int], retries: Int) {
        var sockets: [FuzzSocket] = []
        var refused: [String: Int] = [:]
        var retries = 0
        sockets.reserveCapacity(count)
        for _ in 0..<count {
            var attempts = 0
            while true {
                switch FuzzSocket.connect(path) {
                case .success(let s): sockets.append(s)
                case .failure(let e) where retry && e.code == EAGAIN && attempts < 10_000:
                    attempts += 1
                    retries += 1
                    usleep(1000)
                    continue
                case .failure(let e): refused["\(e)", default: 0] += 1
                }
                break
            }
        }
        return (sockets, refused, retries)
    }

    /// Writes all of `bytes` within `seconds`, waiting for the socket to take them; the bytes
    /// written (fewer if the daemon closed or stopped reading).
    @discardableResult
    static func send(_ s: FuzzSocket, _ bytes: [UInt8], seconds: Double) -> Int {
        var sent = 0
        let until = fuzzClock() + seconds
        while sent < bytes.count, fuzzClock() < until {
            guard let n = s.write(bytes[sent...]) else { break }
            sent += n
            if n == 0 { _ = s.wait(seconds: 0.05, writable: true) }
        }
        return sent
    }

    /// What the daemon did with a set of connections while they were watched.
    struct Observation {
        /// Frames received, by error name ("(ok)" for replies without one).
        var frames: [String: Int] = [:]
        /// Seconds from the start of the watch at which each closed connection was closed.
        var closedAt: [Double] = []
        var stillOpen = 0

        var summary: String {
            let closed = closedAt.isEmpty ? "none closed by the daemon" : "\(closedAt.count) closed by the daemon "
                + "(after \(String(format: "%.1f", closedAt.min()!))–\(String(format: "%.1f", closedAt.max()!)) s)"
            return closed + ", \(stillOpen) still open"
                + (frames.isEmpty ? "" : "; frames: " + frames.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        }
    }

    /// Reads whatever the daemon sends on `sockets` for up to `seconds` (less once every one is
    /// closed), noting each frame and each close (its time counted from `since`, default now).
    static func watch(_ sockets: [FuzzSocket], seconds: Double, since: Double? = nil) -> Observation {
        var out = Observation()
        var inboxes = [FuzzInbox](repeating: FuzzInbox(), count: sockets.count)
        var open = Array(sockets.indices)
        let start = since ?? fuzzClock()
        let until = fuzzClock() + seconds
        while !open.isEmpty, fuzzClock() < until {
            var fds = open.map { pollfd(fd: sockets[$0].fd, events: Int16(POLLIN), revents: 0) }
            guard poll(&fds, nfds_t(fds.count), 100) > 0 else { continue }
            var stillOpen: [Int] = []
            for (k, i) in open.enumerated() {
                guard fds[k].revents != 0 else { stillOpen.append(i); continue }
                let alive = sockets[i].read(into: &inboxes[i].bytes)
                while let frame = inboxes[i].next() {
                    let name = (try? FuzzReplyCheck.check(frame).get()).map { $0.error ?? "(ok)" } ?? "(not Varlink)"
                    out.frames[name, default: 0] += 1
                }
                if alive { stillOpen.append(i) } else { out.closedAt.append(fuzzClock() - start) }
            }
            open = stillOpen
        }
        out.stillOpen = open.count
        return out
    }
}
