import Foundation
import KarstClient
import KarstConfig
import KarstCore
import KarstProtocol
import KarstTesting
import Testing

/// Every scheduling policy, seen through the socket as a client sees it.
@Suite struct PolicySocketTests {
    /// One site: a CPU pool of 8 cores and two NPU pools of 8 accelerators; power cheap and
    /// clean from 01:00 to 05:00 local time; tenant "owner" guaranteed 4 cores.
    static func configuration() -> KarstConfiguration {
        let prices = (0..<24).map { (1...4).contains($0) ? 0.2 : 0.6 }
        let topology = TopologyBuilder()
            .datacenter("site", prices: prices, pools: [("cpu", 8, 64, 0, nil), ("npu1", 64, 512, 8, "ascend-910b"),
                                                        ("npu2", 64, 512, 8, "ascend-910b")])
            .tenant("owner", quota: Resources(cpu: 4, memoryGiB: 64))
            .topology
        var c = KarstConfiguration(topology: topology)
        c.server.socketMode = 0o666
        return c
    }

    static func get(_ c: VarlinkConnection, _ id: String) throws -> JSONObject {
        try #require(try c.call("io.karst.Scheduler.Get", ["id": .string(id)]).job())
    }

    static func submit(_ c: VarlinkConnection, _ params: JSONObject) throws -> String {
        try #require(try c.call("io.karst.Scheduler.Submit", params).job()?.string("id"))
    }

    @Test("preemption: a critical job evicts a batch job, which is requeued with its preemption counted")
    func preemption() async throws {
        let d = try await LiveDaemon(Self.configuration())
        let c = try d.connect()
        let victim = try Self.submit(c, jobParams(cpu: 8, duration: 3600))
        #expect(try await eventually { try Self.get(c, victim).string("state") == "running" })
        let urgent = try Self.submit(c, jobParams(cls: "critical", cpu: 8, duration: 60))
        #expect(try await eventually { try Self.get(c, urgent).string("state") == "running" })
        let v = try Self.get(c, victim)
        #expect(v.string("state") == "pending")
        #expect(v["preemptions"] == .number(1))
        c.close()
        try await d.stop()
    }

    @Test("backfill and explain: a blocked job shows its reason, queue position and reservation")
    func explain() async throws {
        let d = try await LiveDaemon(Self.configuration())
        let c = try d.connect()
        let hog = try Self.submit(c, jobParams(cpu: 8, duration: 600))
        #expect(try await eventually { try Self.get(c, hog).string("state") == "running" })
        let first = try Self.submit(c, jobParams(cpu: 6, duration: 600))
        let second = try Self.submit(c, jobParams(cpu: 4, duration: 600))
        #expect(try await eventually { try Self.get(c, second)["estimatedStart"] != nil })
        let one = try Self.get(c, first)
        #expect(one.string("pendingReason") == "no-capacity:site/cpu")
        #expect(one["queuePosition"] == .number(1))
        let expected = d.clock.now.advanced(bySeconds: 600)
        #expect(one.string("estimatedStart").flatMap(Instant.init(rfc3339:)).map { abs($0.seconds(to: expected)) < 2 } == true)
        #expect(try Self.get(c, second)["queuePosition"] == .number(2))
        let listed = try c.call("io.karst.Scheduler.List", ["state": .string("pending")])["jobs"]?.arrayValue ?? []
        #expect(listed.compactMap { $0.objectValue?["queuePosition"]?.numberValue } == [1, 2])
        // A dry run says where and when, and stores nothing.
        let dry = try #require(try c.call("io.karst.Scheduler.Submit",
                                          jobParams(cpu: 2, duration: 60).merging(["dryRun": .bool(true)])).job())
        #expect(dry.string("pendingReason") != nil)
        #expect(dry["queuePosition"] == .number(3))
        #expect(dry.string("estimatedStart") != nil)
        let preempting = try #require(try c.call("io.karst.Scheduler.Submit",
                                                 jobParams(cls: "critical", cpu: 8).merging(["dryRun": .bool(true)])).job())
        #expect(preempting.string("datacenter") == "site")
        #expect(preempting["preempts"]?.arrayValue?.compactMap(\.stringValue) == [hog])
        #expect(try c.call("io.karst.Scheduler.List", [:])["jobs"]?.arrayValue?.count == 3)
        c.close()
        try await d.stop()
    }

    @Test("gang: four 4-accelerator replicas split over the two NPU pools, shown as shards")
    func gang() async throws {
        let d = try await LiveDaemon(Self.configuration())
        let c = try d.connect()
        let gang = try Self.submit(c, jobParams(cpu: 4, duration: 600, extra: [
            "replicas": .number(4),
            "resources": .object(["cpu": .number(4), "memoryGiB": .number(8), "accelerators": .number(4)]),
        ]))
        #expect(try await eventually { try Self.get(c, gang).string("state") == "running" })
        let shards = try Self.get(c, gang)["shards"]?.arrayValue ?? []
        #expect(shards.compactMap { $0.objectValue?["replicas"]?.numberValue }.reduce(0, +) == 4)
        #expect(shards.count == 2)
        c.close()
        try await d.stop()
    }

    @Test("dependencies: a dependent waits, then starts after success; unknown ids are InvalidJob")
    func dependencies() async throws {
        let d = try await LiveDaemon(Self.configuration())
        let c = try d.connect()
        let a = try Self.submit(c, jobParams(cpu: 1))
        let b = try Self.submit(c, jobParams(cpu: 1, extra: ["dependsOn": .array([.string(a)])]))
        #expect(try await eventually { try Self.get(c, a).string("state") == "running" })
        #expect(try Self.get(c, b).string("pendingReason") == "dependency:\(a)")
        _ = try c.call("io.karst.Scheduler.Complete", ["id": .string(a), "outcome": .string("succeeded")])
        #expect(try await eventually { try Self.get(c, b).string("state") == "running" })
        do {
            _ = try c.call("io.karst.Scheduler.Submit", jobParams(extra: ["dependsOn": .array([.string("job-99")])]))
            Issue.record("a dependency on an unknown job was accepted")
        } catch let e as VarlinkError {
            #expect(e.name == "io.karst.Scheduler.InvalidJob")
        }
        c.close()
        try await d.stop()
    }

    @Test("time-shifting: a flexible job waits for the cheap night hours; quotas: borrowed capacity is marked")
    func timeShiftAndQuota() async throws {
        let d = try await LiveDaemon(Self.configuration())
        let c = try d.connect()
        // The manual clock starts at 08:00 local time; the window runs 20 hours.
        let window = d.clock.now.advanced(bySeconds: 20 * 3600).rfc3339
        let flexible = try Self.submit(c, jobParams(cpu: 1, duration: 3600, extra: ["notAfter": .string(window)]))
        #expect(try await eventually { try Self.get(c, flexible).string("pendingReason")?.hasPrefix("window:shifted") == true })
        let eta = try #require(try Self.get(c, flexible).string("estimatedStart").flatMap(Instant.init(rfc3339:)))
        #expect(eta.hourOfDay(utcOffsetHours: 8) == 1)
        // "owner" is guaranteed 4 cores: its 6-core job runs partly on borrowed capacity.
        let owned = try Self.submit(c, jobParams(cpu: 6, duration: 600, extra: ["tenant": .string("owner")]))
        #expect(try await eventually { try Self.get(c, owned)["borrowed"] == .bool(true) })
        c.close()
        try await d.stop()
    }
}

extension PolicySocketTests {
    @Test("deadlines: a job still running at its deadline is reported once, as a deadline-missed event")
    func deadlineMissed() async throws {
        let d = try await LiveDaemon(Self.configuration())
        let watcher = try d.connect()
        try watcher.stream("io.karst.Scheduler.Watch", [:])
        let c = try d.connect()
        #expect(try await eventually { try c.call("io.karst.Admin.Stats", [:])["watchers"] == .number(1) })
        let deadline = d.clock.now.advanced(bySeconds: 30).rfc3339
        let id = try Self.submit(c, jobParams(cpu: 1, duration: 600, extra: ["deadline": .string(deadline)]))
        d.clock.advance(bySeconds: 31)
        var kinds: [String] = []
        while !kinds.contains("deadline-missed") && kinds.count < 10 {
            let event = try #require(try watcher.receive().parameters["event"]?.objectValue)
            if event.job()?.string("id") == id { kinds.append(event.string("kind") ?? "?") }
        }
        #expect(kinds == ["submitted", "placed", "deadline-missed"])
        watcher.close()
        c.close()
        try await d.stop()
    }
}

extension JSONObject {
    func merging(_ other: JSONObject) -> JSONObject {
        var copy = self
        for m in other.members { copy[m.key] = m.value }
        return copy
    }
}
