import Foundation
import KarstClient
import KarstProtocol
import Synchronization
import Testing

/// The client's read side: replies arrive in reads of any size, several in one read or one over
/// many; each must come out whole and in order, however large, and the connection's buffer must
/// not lose bytes when it grows or compacts.
@Suite struct VarlinkConnectionTests {
    /// A byte stream that hands out its bytes in reads of scripted sizes.
    final class ScriptedTransport: VarlinkTransport {
        struct State {
            var bytes: [UInt8]
            var offset = 0
            var rng: UInt64
        }
        let state: Mutex<State>

        init(_ bytes: [UInt8], seed: UInt64) { state = Mutex(State(bytes: bytes, rng: seed)) }

        func write(_ bytes: [UInt8]) throws(ClientError) {}
        func read(into buffer: UnsafeMutableRawBufferPointer) throws(ClientError) -> Int {
            state.withLock { s in
                guard s.offset < s.bytes.count else { return 0 }
                s.rng = s.rng &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                // Mostly small reads, sometimes as much as there is room for.
                let want = (s.rng >> 33) % 4 == 0 ? buffer.count : Int((s.rng >> 20) % 5_000) + 1
                let n = min(want, buffer.count, s.bytes.count - s.offset)
                s.bytes.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress! + s.offset, byteCount: n) }
                s.offset += n
                return n
            }
        }
        func setReceiveTimeout(seconds: Double) {}
        func close() {}
    }

    func reply(_ i: Int, padding: Int) -> [UInt8] {
        VarlinkReply.frame { w in
            w.key("i"); w.value(.number(Double(i)))
            w.key("pad"); w.string(String(repeating: "x", count: padding))
        }
    }

    @Test(arguments: [1, 2, 3])
    func everyReplyComesOutWholeAndInOrder(seed: UInt64) throws {
        var sizes: [Int] = []
        var g = seed
        for _ in 0..<300 {
            g = g &* 6_364_136_223_846_793_005 &+ 1
            // Small replies, with now and then one larger than a read (up to 300 kB).
            sizes.append((g >> 40) % 10 == 0 ? Int((g >> 20) % 300_000) : Int((g >> 20) % 200))
        }
        let stream = sizes.enumerated().flatMap { reply($0.offset, padding: $0.element) }
        let c = VarlinkConnection(transport: ScriptedTransport(stream, seed: seed), description: "scripted")
        for (i, size) in sizes.enumerated() {
            let r = try c.receive()
            #expect(r.parameters["i"] == .number(Double(i)))
            #expect(r.parameters["pad"]?.stringValue?.utf8.count == size)
        }
        #expect(throws: ClientError.self) { _ = try c.receive() }
    }

    @Test func aReplyCutShortByTheDaemonClosingIsAnError() {
        let cut = Array(reply(0, padding: 10).dropLast(3))
        let c = VarlinkConnection(transport: ScriptedTransport(cut, seed: 9), description: "scripted")
        #expect {
            _ = try c.receive()
        } throws: { error in
            guard case ClientError.closed = error else { return false }
            return true
        }
    }

    /// `shutdown` from another thread wakes a reader blocked on the connection (its descriptor
    /// stays the connection's until it is released).
    @Test func shutdownWakesAReaderBlockedOnAnotherThread() throws {
        let path = "/tmp/karst-shutdown-\(getpid()).sock"
        unlink(path)
        defer { unlink(path) }
        let listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer { Glibc.close(listener) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in for (i, b) in path.utf8.enumerated() { raw[i] = b } }
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        #expect(bound == 0 && listen(listener, 4) == 0)
        let c = try VarlinkConnection(path: path)
        let peer = accept(listener, nil, nil)  // never answers
        defer { Glibc.close(peer) }
        let woke = DispatchSemaphore(value: 0)
        Thread {
            _ = try? c.receive()
            woke.signal()
        }.start()
        #expect(woke.wait(timeout: .now() + 0.3) == .timedOut, "the reader should be blocked")
        c.shutdown()
        #expect(woke.wait(timeout: .now() + 5) == .success, "shutdown did not wake the reader")
        c.close()
    }
}
