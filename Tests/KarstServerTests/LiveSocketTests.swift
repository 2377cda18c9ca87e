import Foundation
import KarstClient
import KarstConfig
import KarstProtocol
import KarstServer
import Testing

/// Behaviour only a real socket shows: streaming, pipelining, ordering.
@Suite struct LiveSocketTests {
    @Test func watchStreamsSubmittedPlacedSucceeded() async throws {
        let d = try await LiveDaemon()
        let watcher = try d.connect()
        try watcher.stream("io.karst.Scheduler.Watch", [:])
        let client = try d.connect()
        // Wait until the engine has the watch, so the submission below is certainly seen.
        #expect(try await eventually { try client.call("io.karst.Admin.Stats", [:])["watchers"] == .number(1) })
        let submitted = try client.call("io.karst.Scheduler.Submit", jobParams(cpu: 2, duration: 60))
        let id = try #require(submitted.job()?.string("id"))
        d.clock.advance(bySeconds: 61)
        var kinds: [String] = []
        while kinds.count < 3 {
            let reply = try watcher.receive()
            #expect(reply.continues)
            let event = try #require(reply.parameters["event"]?.objectValue)
            #expect(event.job()?.string("id") == id)
            kinds.append(event.string("kind") ?? "?")
        }
        #expect(kinds == ["submitted", "placed", "succeeded"])
        watcher.close()
        client.close()
        try await d.stop()
    }

    @Test func tenThousandPipelinedCallsAreAnsweredInOrder() async throws {
        let d = try await LiveDaemon(testConfiguration { $0.server.maxCallsInFlight = 512 })
        let c = try d.connect()
        var bytes: [UInt8] = []
        for i in 0..<10_000 {
            // Alternate engine calls and locally answered ones: order must still hold.
            if i % 3 == 0 {
                bytes += VarlinkCall(method: "io.karst.Protocol.Ping", parameters: ["text": .string("p\(i)")]).framed
            } else {
                bytes += VarlinkCall(method: "io.karst.Scheduler.Submit", parameters: jobParams(cpu: 0.001, memory: 0.001)).framed
            }
        }
        let all = bytes
        let writer = Thread { try? c.send(all) }
        writer.start()
        var expectedJob = 1
        for i in 0..<10_000 {
            let r = try c.receive()
            #expect(r.error == nil)
            if i % 3 == 0 {
                #expect(r.parameters.string("text") == "p\(i)")
            } else {
                #expect(r.parameters.job()?.string("id") == "job-\(expectedJob)")
                expectedJob += 1
            }
        }
        c.close()
        try await d.stop()
    }

    @Test func onewayCallsGetNoReply() async throws {
        let d = try await LiveDaemon()
        let c = try d.connect()
        try c.send(VarlinkCall(method: "io.karst.Scheduler.Submit", parameters: jobParams(), oneway: true).framed)
        let ping = try c.call("io.karst.Protocol.Ping", ["text": .string("after")])
        #expect(ping.string("text") == "after")
        #expect(try c.call("io.karst.Scheduler.List", [:])["jobs"]?.arrayValue?.count == 1)
        c.close()
        try await d.stop()
    }

    @Test func aStaleSocketIsReplacedALiveOneIsNot() async throws {
        let d = try await LiveDaemon()
        // A second daemon on the same path must refuse to start.
        let second = ControlServer(target: .path(d.socket), settings: ServerSettings(),
                                   access: AccessPolicy(AccessSettings()), engine: d.engine, logger: quietLogger,
                                   group: d.loops)
        await #expect(throws: (any Error).self) { try await second.run() }
        #expect(try d.connect().call("io.karst.Protocol.Ping", [:]).string("text") == "pong")
        try await d.stop()
        // A leftover socket file with nobody behind it is replaced.
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let dir = shortTempDir()
        let path = dir + "/stale.sock"
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in for (i, b) in path.utf8.enumerated() { raw[i] = b } }
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
        close(fd)
        #expect(FileManager.default.fileExists(atPath: path))
        let again = try await LiveDaemon(testConfiguration())
        try await again.stop()
        try? FileManager.default.removeItem(atPath: dir)
    }
}
