import Foundation
import KarstClient
import KarstConfig
import KarstCore
import KarstProtocol
import KarstStore
import Synchronization
import Testing

/// `io.karst.Agent` through a live daemon's socket: an agent connects and is streamed the runs
/// placed in its data centre after they are committed; its reports end them; a cancel is
/// pushed as a stop, and the job ends when the agent confirms.
@Suite struct AgentProtocolTests {
    static func config() -> KarstConfiguration {
        testConfiguration { c in
            c.topology.datacenters[1].executor = .agents  // beta
        }
    }

    func next(_ c: VarlinkConnection) throws -> AgentInterface.Connect.Reply {
        let reply = try c.receive()
        if let e = reply.error { throw e }
        return try AgentInterface.Connect.Reply(object: reply.parameters, path: .root, strict: false)
    }

    @Test func anAgentIsStreamedItsRunsAndItsReportsEndThem() async throws {
        let d = try await LiveDaemon(Self.config())
        let stream = try d.connect(), reports = try d.connect(), client = try d.connect()
        stream.setReceiveTimeout(seconds: 5)
        // Before any agent: the job waits, saying why.
        let job = SchedulerInterface.Submit.Parameters(job: WireJobSpec(
            origin: "local", priorityClass: "batch", resources: WireResources(cpu: 2, memoryGiB: 4), durationSeconds: 60,
            command: ["/bin/sh", "-c", "exit 0"], environment: ["A": "b"]))
        let submitted = try client.call(SchedulerInterface.Submit.name, job.jsonObject)
        let id = try #require(submitted.job()?.string("id"))
        #expect(submitted.job()?.string("pendingReason") == "datacenter-unavailable:no agent")

        try stream.stream(AgentInterface.Connect.name, AgentInterface.Connect.Parameters(
            agent: "a1", datacenter: "beta", backend: "test", host: "h").jsonObject)
        let first = try next(stream)
        #expect(first.leases.isEmpty)
        #expect(first.fenceSeconds == 10)
        // The waiting job is placed at the next pass and its lease pushed.
        let pushed = try next(stream)
        #expect(pushed.leases.map(\.job) == [id])
        #expect(pushed.leases.first?.command == ["/bin/sh", "-c", "exit 0"])
        #expect(pushed.leases.first?.environment == ["A": "b"])
        let session = first.session
        let started = try reports.call(AgentInterface.Started.name, AgentInterface.Started.Parameters(
            agent: "a1", session: session, job: id, attempt: 1, siteID: "pid 42").jsonObject)
        #expect(started["action"] == .string("run"))
        let running = try client.call(SchedulerInterface.Get.name, ["id": .string(id)]).job()
        #expect(running?.string("agent") == "a1")
        #expect(running?.string("siteID") == "pid 42")
        let agents = try AdminInterface.Agents.Reply(object: try client.call(AdminInterface.Agents.name), path: .root, strict: false)
        #expect(agents.agents.map(\.name) == ["a1"])
        #expect(agents.agents.first?.state == "live" && agents.agents.first?.runs == 1 && agents.agents.first?.datacenter == "beta")
        let ended = try reports.call(AgentInterface.Ended.name, AgentInterface.Ended.Parameters(
            agent: "a1", session: session, job: id, attempt: 1, succeeded: true, exitStatus: 0).jsonObject)
        #expect(ended["answer"] == .string("accepted"))
        let again = try reports.call(AgentInterface.Ended.name, AgentInterface.Ended.Parameters(
            agent: "a1", session: session, job: id, attempt: 1, succeeded: false).jsonObject)
        #expect(again["answer"] == .string("repeated"))
        #expect(try client.call(SchedulerInterface.Get.name, ["id": .string(id)]).job()?.string("state") == "succeeded")

        // A cancel of a running command is a stop pushed to the agent; the job ends on confirmation.
        let second = try client.call(SchedulerInterface.Submit.name, job.jsonObject)
        let id2 = try #require(second.job()?.string("id"))
        #expect(try next(stream).leases.map(\.job) == [id2])
        let cancel = try client.call(SchedulerInterface.Cancel.name, ["id": .string(id2)])
        #expect(cancel.job()?.string("state") == "stopping")
        let stop = try next(stream)
        #expect(stop.leases.first?.stop == "cancelled")
        // Complete is not how an agent's job ends.
        #expect(throws: VarlinkError.self) {
            try client.call(SchedulerInterface.Complete.name, ["id": .string(id2), "outcome": .string("succeeded")])
        }
        _ = try reports.call(AgentInterface.Ended.name, AgentInterface.Ended.Parameters(
            agent: "a1", session: session, job: id2, attempt: 1, succeeded: false, message: "killed").jsonObject)
        #expect(try client.call(SchedulerInterface.Get.name, ["id": .string(id2)]).job()?.string("state") == "cancelled")
        // A report over a stale session is refused, naming why.
        do {
            _ = try reports.call(AgentInterface.Heartbeat.name, ["agent": .string("a1"), "session": .number(Double(session + 99))])
            Issue.record("a stale session was accepted")
        } catch let e as VarlinkError {
            #expect(e.name == SchedulerInterface.AgentRefused.name)
        }
        for c in [stream, reports, client] { c.close() }
        try await d.stop()
    }

    @Test func onlyDatacentresRunByAgentsTakeAgents() async throws {
        let d = try await LiveDaemon(Self.config())
        let c = try d.connect()
        c.setReceiveTimeout(seconds: 5)
        try c.stream(AgentInterface.Connect.name, ["agent": .string("x"), "datacenter": .string("alpha"),
                                                    "backend": .string("test")])
        let reply = try c.receive()
        #expect(reply.error?.name == SchedulerInterface.AgentRefused.name)
        #expect(reply.error?.parameters["reason"]?.stringValue?.contains("modelled executor") == true)
        c.close()
        try await d.stop()
    }
}

/// Leader epochs on agents' calls, against a daemon whose store is a replica's (`TermStore`: the
/// test sets its epoch and whether its term may write).
@Suite struct AgentEpochTests {
    func connect(_ d: LiveDaemon, epoch: Int?) throws -> (VarlinkConnection, AgentInterface.Connect.Reply) {
        let stream = try d.connect()
        stream.setReceiveTimeout(seconds: 5)
        try stream.stream(AgentInterface.Connect.name, AgentInterface.Connect.Parameters(
            agent: "a1", datacenter: "beta", backend: "test", host: "h", epoch: epoch).jsonObject)
        let reply = try stream.receive()
        if let e = reply.error { throw e }
        return (stream, try AgentInterface.Connect.Reply(object: reply.parameters, path: .root, strict: false))
    }

    func refusal(_ body: () throws -> Any) -> String? {
        do { _ = try body(); return nil } catch let e as VarlinkError { return e.name } catch { return "\(error)" }
    }

    @Test func agentsCallsCarryTheEpochAndAnOldLeaderOrAnOldEpochIsRefused() async throws {
        let store = try TermStore(epoch: 3)
        let d = try await LiveDaemon(AgentProtocolTests.config(), store: store)
        let reports = try d.connect(), client = try d.connect()
        let (stream, first) = try connect(d, epoch: nil)
        #expect(first.epoch == 3)
        let job = SchedulerInterface.Submit.Parameters(job: WireJobSpec(
            origin: "local", priorityClass: "batch", resources: WireResources(cpu: 1, memoryGiB: 1), durationSeconds: 60,
            command: ["/bin/true"]))
        let id = try #require(try client.call(SchedulerInterface.Submit.name, job.jsonObject).job()?.string("id"))
        let pushed = try AgentInterface.Connect.Reply(object: try stream.receive().parameters, path: .root, strict: false)
        #expect(pushed.leases.map(\.job) == [id] && pushed.leases.first?.epoch == 3 && pushed.epoch == 3)
        func heartbeat(_ epoch: Int?) -> String? {
            refusal { try reports.call(AgentInterface.Heartbeat.name, AgentInterface.Heartbeat.Parameters(
                agent: "a1", session: first.session, epoch: epoch).jsonObject) }
        }
        #expect(heartbeat(3) == nil)
        #expect(heartbeat(nil) == nil, "an agent that sends no epoch (an older one) is judged by its session alone")
        // A report under an earlier leader's epoch: refused, the agent connects again.
        #expect(heartbeat(2) == SchedulerInterface.AgentRefused.name)
        // An agent that has seen a newer epoch: this replica is an old leader.
        #expect(heartbeat(4) == ProtocolInterface.NotLeader.name)
        #expect(refusal { try reports.call(AgentInterface.Started.name, AgentInterface.Started.Parameters(
            agent: "a1", session: first.session, job: id, attempt: 1, siteID: "pid 1", epoch: 4).jsonObject) }
                == ProtocolInterface.NotLeader.name)
        #expect(refusal { try reports.call(AgentInterface.Ended.name, AgentInterface.Ended.Parameters(
            agent: "a1", session: first.session, job: id, attempt: 1, succeeded: true, epoch: 4).jsonObject) }
                == ProtocolInterface.NotLeader.name)
        #expect(refusal { try connect(d, epoch: 4) } == ProtocolInterface.NotLeader.name)
        // Nothing of those was taken: the run is still leased, not started or ended.
        #expect(try client.call(SchedulerInterface.Get.name, ["id": .string(id)]).job()?.string("state") == "running")
        #expect(try client.call(SchedulerInterface.Get.name, ["id": .string(id)]).job()?.string("siteID") == nil)
        // A term run out by the replica's own clock: it answers no agent, whatever the epoch.
        store.writable.withLock { $0 = false }
        #expect(heartbeat(3) == ProtocolInterface.NotLeader.name)
        #expect(refusal { try connect(d, epoch: 3) } == ProtocolInterface.NotLeader.name)
        for c in [stream, reports, client] { c.close() }
        try await d.stop()
    }

    @Test func aSingleDaemonChecksNoEpoch() async throws {
        let d = try await LiveDaemon(AgentProtocolTests.config())
        let (stream, first) = try connect(d, epoch: 9)
        #expect(first.epoch == nil)
        let reports = try d.connect()
        #expect(refusal { try reports.call(AgentInterface.Heartbeat.name, AgentInterface.Heartbeat.Parameters(
            agent: "a1", session: first.session, epoch: 9).jsonObject) } == nil)
        stream.close()
        reports.close()
        try await d.stop()
    }
}

/// A replica's store for in-process tests: SQLite underneath, with the epoch and the term's
/// writability the test sets (PostgreSQL's own are tested in `PostgresStoreTests`).
final class TermStore: ReplicatedStore, @unchecked Sendable {
    let sqlite: KarstStore
    let epoch: UInt64
    let writable = Mutex(true)

    init(epoch: UInt64) throws {
        sqlite = try KarstStore(directory: shortTempDir())
        self.epoch = epoch
    }

    var replica: String { "test" }
    var renewSeconds: Double { 1 }
    var location: String { sqlite.path }
    func acquire(address: String?) throws(StoreError) -> UInt64? { epoch }
    func renew() throws(StoreError) -> Bool { true }
    func leader() throws(StoreError) -> LeaseHolder { LeaseHolder(holder: "test", address: nil, epoch: epoch, expiresIn: 10) }
    var currentTerm: LeaderTerm {
        var t = LeaderTerm(leaseSeconds: 10, renewSeconds: 1)
        t.held(epoch: epoch, startedAt: 0)
        return t
    }
    var mayWriteNow: Bool { writable.withLock { $0 } }
    func commit(_ batch: StoreBatch) throws(StoreError) { try sqlite.commit(batch) }
    func probe(at now: Instant) throws(StoreError) { try sqlite.probe(at: now) }
    func load() throws(StoreError) -> StoredState { try sqlite.load() }
    func prune(before: Instant) throws(StoreError) -> (Int, Int) { try sqlite.prune(before: before) }
    func close() throws { try sqlite.close() }
}
