import Foundation
import KarstClient
import KarstConfig
import KarstCore
import KarstProtocol
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
