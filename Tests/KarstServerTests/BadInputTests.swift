import Foundation
import KarstClient
import KarstConfig
import KarstProtocol
import KarstServer
import Testing

/// Bad input never hurts anyone else: each kind gets its named error (or a clean close), and a
/// second client is served meanwhile.
@Suite struct BadInputTests {
    /// Sends raw bytes, returns the reply and whether the daemon then closed the connection.
    func send(_ bytes: [UInt8], to d: LiveDaemon) throws -> (VarlinkError?, closed: Bool) {
        let c = try d.connect()
        defer { c.close() }
        try c.send(bytes)
        let reply = try c.receive()
        let closed: Bool
        do {
            try c.send(VarlinkCall(method: "io.karst.Protocol.Ping").framed)
            _ = try c.receive()
            closed = false
        } catch {
            closed = true
        }
        return (reply.error, closed)
    }

    func otherClientIsServed(_ d: LiveDaemon) throws {
        let other = try d.connect()
        defer { other.close() }
        #expect(try other.call("io.karst.Protocol.Ping", ["text": .string("still here")]).string("text") == "still here")
        #expect(try other.call("io.karst.Scheduler.Submit", jobParams()).job()?.string("state") == "running")
    }

    @Test(arguments: [("not json", "io.karst.Protocol.InvalidMessage"),
                      ("[1, 2]", "io.karst.Protocol.InvalidMessage"),
                      ("{\"parameters\": {}}", "io.karst.Protocol.InvalidMessage"),
                      ("{\"method\": 12}", "io.karst.Protocol.InvalidMessage"),
                      ("{\"method\": \"io.karst.Scheduler.Get\", \"bogus\": 1}", "io.karst.Protocol.InvalidMessage"),
                      ("\u{FF}\u{FE}", "io.karst.Protocol.InvalidMessage")])
    func unreadableMessagesAreNamedAndTheConnectionClosed(_ text: String, _ expected: String) async throws {
        let d = try await LiveDaemon()
        let (error, closed) = try send(Array(text.utf8) + [0], to: d)
        #expect(error?.name == expected)
        #expect(closed, "the stream cannot be trusted after an unreadable message")
        try otherClientIsServed(d)
        try await d.stop()
    }

    @Test(arguments: [
        (#"{"method":"io.karst.Nope.Do"}"#, "org.varlink.service.InterfaceNotFound"),
        (#"{"method":"io.karst.Scheduler.Do"}"#, "org.varlink.service.MethodNotFound"),
        (#"{"method":"io.karst.Scheduler.Get","parameters":{"id":7}}"#, "org.varlink.service.InvalidParameter"),
        (#"{"method":"io.karst.Scheduler.Submit","parameters":{"job":"yes"}}"#, "org.varlink.service.InvalidParameter"),
        (#"{"method":"io.karst.Scheduler.Submit","parameters":[]}"#, "org.varlink.service.InvalidParameter"),
    ])
    func wrongCallsAreNamedAndTheConnectionStays(_ text: String, _ expected: String) async throws {
        let d = try await LiveDaemon()
        let (error, closed) = try send(Array(text.utf8) + [0], to: d)
        #expect(error?.name == expected)
        #expect(!closed)
        try otherClientIsServed(d)
        try await d.stop()
    }

    /// Each value out of its bound gets the named error whose reason states the bound, and the
    /// daemon keeps serving. The first line once stopped the whole hub (a trap in the pass).
    static let outOfBounds: [(String, String, String)] = [
        (#""durationSeconds":1e18"#, "io.karst.Scheduler.InvalidJob", "at most 2678400"),
        (#""durationSeconds":1e12"#, "io.karst.Scheduler.InvalidJob", "at most 2678400"),
        (#""deadline":"0001-01-01T00:00:00Z""#, "io.karst.Scheduler.InvalidJob", "from 2000-01-01T00:00:00Z"),
        (#""priority":2000000"#, "io.karst.Scheduler.InvalidJob", "between -1000000 and 1000000"),
        (#""maxLatencyMs":1000000000"#, "io.karst.Scheduler.InvalidJob", "between 1 and 60000"),
    ]

    @Test func outOfBoundValuesAreNamedWithTheirBoundAndTheHubKeepsServing() async throws {
        let d = try await LiveDaemon()
        let base = #""origin":"gba","priorityClass":"batch","resources":{"cpu":1,"memoryGiB":1}"#
        for dryRun in [false, true] {
            for (field, name, bound) in Self.outOfBounds {
                let text = #"{"method":"io.karst.Scheduler.Submit","parameters":{"job":{"# + base + "," + field
                    + "}" + (dryRun ? #","dryRun":true"# : "") + "}}"
                let (error, closed) = try send(Array(text.utf8) + [0], to: d)
                #expect(error?.name == name, "\(field)")
                #expect(error?.parameters["reason"]?.stringValue?.contains(bound) == true, "\(field): \(String(describing: error))")
                #expect(!closed)
            }
        }
        let tiny = #"{"method":"io.karst.Scheduler.Submit","parameters":{"job":{"origin":"gba","priorityClass":"batch","resources":{"cpu":1e-9,"memoryGiB":1e-9}}}}"#
        #expect(try send(Array(tiny.utf8) + [0], to: d).0?.parameters["field"]?.stringValue == "resources.cpu")
        for resources in [#"{"cpu":1e12,"memoryGiB":1}"#, #"{"cpu":1,"memoryGiB":1,"accelerators":1099511627776}"#] {
            let text = #"{"method":"io.karst.Scheduler.Submit","parameters":{"job":{"origin":"gba","priorityClass":"batch","resources":"#
                + resources + "}}}"
            let (error, _) = try send(Array(text.utf8) + [0], to: d)
            #expect(error?.name == "io.karst.Scheduler.Unschedulable")
            #expect(error?.parameters["reason"]?.stringValue?.contains("the largest such pool") == true, "\(String(describing: error))")
        }
        let calls: [(String, String)] = [
            (#"{"method":"io.karst.Scheduler.List","parameters":{"limit":0}}"#, "between 1 and 100000"),
            (#"{"method":"io.karst.Scheduler.List","parameters":{"limit":1000000}}"#, "between 1 and 100000"),
            (#"{"method":"io.karst.Scheduler.Watch","parameters":{"ids":["#
                + Array(repeating: #""job-1""#, count: 10_001).joined(separator: ",") + "]},\"more\":true}", "at most 10000 entries"),
            (#"{"method":"io.karst.Scheduler.Complete","parameters":{"id":"job-1","outcome":"failed","message":""#
                + String(repeating: "m", count: 5000) + #""}}"#, "at most 4096 bytes"),
            (#"{"method":"io.karst.Scheduler.Complete","parameters":{"id":"job-1","outcome":"failed","message":"a\u0000b"}}"#,
             "must not contain a NUL byte"),
            (#"{"method":"io.karst.Agent.Started","parameters":{"agent":"a1","session":1,"job":"job-1","attempt":1,"siteID":"p\u0000"}}"#,
             "must not contain a NUL byte"),
            (#"{"method":"io.karst.Scheduler.Complete","parameters":{"id":"job-1","outcome":"maybe"}}"#, "succeeded"),
            (#"{"method":"io.karst.Scheduler.Get","parameters":{"id":""# + String(repeating: "9", count: 300) + #""}}"#,
             "at most 256 bytes"),
            (#"{"method":"io.karst.Admin.Drain","parameters":{"datacenter":""# + String(repeating: "d", count: 300) + #""}}"#,
             "at most 256 bytes"),
            (#"{"method":"io.karst.Agent.Started","parameters":{"agent":"a1","session":1,"job":"job-1","attempt":1,"siteID":"p","output":""#
                + String(repeating: "o", count: 4096) + #""}}"#, "at most 4095 bytes"),
            (#"{"method":"io.karst.Agent.Started","parameters":{"agent":"a1","session":1,"job":"job-1","attempt":1,"siteID":"p","limits":""#
                + String(repeating: "l", count: 4097) + #""}}"#, "at most 4096 bytes"),
            (#"{"method":"io.karst.Admin.Backup","parameters":{"path":"relative/path"}}"#, "absolute path"),
            (#"{"method":"io.karst.Admin.Backup","parameters":{"path":"/nonexistent-karst-dir/b.db"}}"#, "must exist"),
            (#"{"method":"io.karst.Admin.Backup","parameters":{"path":"/tmp/"# + String(repeating: "n", count: 300) + #""}}"#,
             "at most 255 bytes"),
        ]
        for (text, bound) in calls {
            let (error, closed) = try send(Array(text.utf8) + [0], to: d)
            #expect(error?.name == "io.karst.Scheduler.OutOfRange", "\(text.prefix(80))")
            #expect(error?.parameters["reason"]?.stringValue?.contains(bound) == true, "\(String(describing: error))")
            #expect(!closed)
        }
        try otherClientIsServed(d)
        try await d.stop()
    }

    @Test func anOversizedMessageIsRefusedWithoutWaitingForItsEnd() async throws {
        let d = try await LiveDaemon(testConfiguration { $0.server.maxMessageBytes = 4096 })
        let c = try d.connect()
        // 8 KiB and no NUL: the daemon must answer now, not wait for the rest.
        try c.send(Array(repeating: UInt8(ascii: "x"), count: 8192))
        let reply = try c.receive()
        #expect(reply.error == .frameTooLarge(limit: 4096))
        #expect(throws: ClientError.self) { _ = try c.receive() }
        c.close()
        try otherClientIsServed(d)
        try await d.stop()
    }

    @Test func theConnectionCapAnswersInsteadOfHanging() async throws {
        let d = try await LiveDaemon(testConfiguration { $0.server.maxConnections = 2 })
        let a = try d.connect(), b = try d.connect()
        _ = try a.call("io.karst.Protocol.Ping", [:])
        _ = try b.call("io.karst.Protocol.Ping", [:])
        let c = try d.connect()
        let refused = try c.receive()
        #expect(refused.error == .tooManyConnections(limit: 2))
        c.close()
        a.close()
        #expect(try await eventually { (try? d.connect().call("io.karst.Protocol.Ping", [:])) != nil })
        b.close()
        try await d.stop()
    }

    @Test func idleConnectionsAreClosedWatchersAreNot() async throws {
        let d = try await LiveDaemon(testConfiguration { $0.server.idleTimeoutSeconds = 0.3 })
        let idle = try d.connect()
        let watcher = try d.connect()
        try watcher.stream("io.karst.Scheduler.Watch", [:])
        try await Task.sleep(for: .milliseconds(900))
        #expect(throws: ClientError.self) { _ = try idle.call("io.karst.Protocol.Ping", [:]) }
        let other = try d.connect()
        _ = try other.call("io.karst.Scheduler.Submit", jobParams())
        #expect(try watcher.receive().parameters["event"] != nil)
        other.close()
        watcher.close()
        try await d.stop()
    }

    @Test func aWatcherThatStopsReadingIsEndedNotBuffered() async throws {
        let d = try await LiveDaemon(testConfiguration { $0.server.watchBufferEvents = 20 })
        let lazy = try d.connect()
        try lazy.stream("io.karst.Scheduler.Watch", [:])
        let busy = try d.connect()
        #expect(try await eventually { try busy.call("io.karst.Admin.Stats", [:])["watchers"] == .number(1) })
        // Enough events to fill the socket buffers many times over; the watcher reads nothing.
        let job = try #require(jobParams(cpu: 0.001, memory: 0.001)["job"])
        for _ in 0..<40 {
            _ = try busy.call("io.karst.Scheduler.SubmitBatch", ["jobs": .array(Array(repeating: job, count: 250))])
        }
        #expect(try await eventually { try busy.call("io.karst.Admin.Stats", [:])["watchers"] == .number(0) })
        try otherClientIsServed(d)
        // Reading at last, the watcher finds its stream ended by SlowConsumer after the frames
        // that were sent; the connection still works and can watch again.
        lazy.setReceiveTimeout(seconds: 10)
        var ended: VarlinkError? = nil
        for _ in 0..<20_000 {
            let reply = try lazy.receive()
            if let e = reply.error { ended = e; break }
            #expect(reply.continues)
        }
        #expect(ended?.name == "io.karst.Protocol.SlowConsumer")
        try lazy.stream("io.karst.Scheduler.Watch", [:])
        #expect(try await eventually { try busy.call("io.karst.Admin.Stats", [:])["watchers"] == .number(1) })
        _ = try busy.call("io.karst.Scheduler.Submit", jobParams())
        #expect(try lazy.receive().parameters["event"] != nil)
        lazy.close()
        busy.close()
        try await d.stop()
    }

    @Test func aClientThatStopsReadingRepliesDoesNotStallOthers() async throws {
        let d = try await LiveDaemon(testConfiguration { $0.server.maxCallsInFlight = 64 })
        let flood = try d.connect()
        // 200k pipelined pings (~10 MB of replies) and never a read: the daemon must stop reading
        // from this client instead of buffering its replies.
        let ping = VarlinkCall(method: "io.karst.Protocol.Ping").framed
        let chunk = Array([[UInt8]](repeating: ping, count: 1000).joined())
        let writer = Thread {
            for _ in 0..<200 { if (try? flood.send(chunk)) == nil { return } }
        }
        writer.start()
        try await Task.sleep(for: .milliseconds(500))
        let start = Date()
        try otherClientIsServed(d)
        #expect(Date().timeIntervalSince(start) < 2)
        flood.close()
        try await d.stop()
    }
}
