/// Bytes read from the daemon, split into frames at each NUL.
struct FuzzInbox {
    var bytes: [UInt8] = []
    private var start = 0
    /// Where the search for the next NUL goes on (a long reply arrives in many reads).
    private var scanned = 0

    /// The next complete frame (without its NUL), if one has arrived.
    mutating func next() -> ArraySlice<UInt8>? {
        guard let nul = bytes[max(start, scanned)...].firstIndex(of: 0) else {
            if start > 0 { bytes.removeFirst(start); start = 0 }
            scanned = bytes.count
            return nil
        }
        let frame = bytes[start..<nul]
        start = nul + 1
        scanned = start
        return frame
    }

    /// Bytes of a frame not yet complete.
    var pending: Int { bytes.count - start }
}

/// One exchange with the daemon over a `FuzzSocket`: write bytes while reading replies (never
/// only one of the two, so neither side can block the other), until the caller has seen the
/// reply it waits for, the daemon closes, or the deadline passes.
enum FuzzExchange {
    /// How an exchange ended.
    enum End: Equatable {
        /// `onFrame` returned true.
        case done
        /// End of stream (the daemon closed the connection) or a socket error.
        case closed
        case timeout
    }

    /// Sends `out` and hands each reply frame to `onFrame` until it returns true.
    static func run(_ s: FuzzSocket, _ out: [UInt8], _ inbox: inout FuzzInbox, deadline: Double,
                    onFrame: (ArraySlice<UInt8>) -> Bool) -> End {
        var sent = 0
        var peerGone = false
        while true {
            while let frame = inbox.next() { if onFrame(frame) { return .done } }
            let now = fuzzClock()
            if now >= deadline { return .timeout }
            let wantWrite = sent < out.count && !peerGone
            let events = s.wait(seconds: min(deadline - now, 0.25), writable: wantWrite)
            if wantWrite, events & Int16(POLLOUT) != 0 {
                if let n = s.write(out[sent...]) { sent += n } else { peerGone = true }
            }
            if events & Int16(POLLIN | POLLHUP | POLLERR) != 0, !s.read(into: &inbox.bytes) {
                while let frame = inbox.next() { if onFrame(frame) { return .done } }
                return .closed
            }
        }
    }
}

/// The exchange the campaign is made of: frames, then a sync Ping.
extension FuzzExchange {
    /// Sends `frames`, then a Ping whose text is `token`, and reads until that Ping's reply:
    /// replies come in call order, so every reply to `frames` has been handed to `onReply` by
    /// then (checked: a Varlink reply, or why not).
    static func batch(_ s: FuzzSocket, _ frames: [UInt8], token: String, _ inbox: inout FuzzInbox, deadline: Double,
                      onReply: (ArraySlice<UInt8>, Result<FuzzReplyCheck.Reply, FuzzReplyCheck.Problem>) -> Void) -> End {
        let ping = FuzzValue.object([("method", .string("io.karst.Protocol.Ping")), ("parameters", .object([("text", .string(token))]))])
        return run(s, frames + ping.framed, &inbox, deadline: deadline) { frame in
            let checked = FuzzReplyCheck.check(frame)
            if case .success(let r) = checked, r.error == nil, r.text == token { return true }
            onReply(frame, checked)
            return false
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
