import KarstConfig
import KarstCore
import KarstProtocol
import KarstServer
import Testing

/// The contract's methods, each body run straight into the engine and through a live socket.
@Suite struct ProtocolBehaviourTests {
    @Test(arguments: Depth.allCases)
    func submitGetListCancel(_ depth: Depth) async throws {
        let t = try await transport(depth)
        let submitted = try await t.ok("io.karst.Scheduler.Submit", jobParams(cpu: 4, memory: 8, duration: 600))
        let job = try #require(submitted.job())
        #expect(job.string("id") == "job-1")
        #expect(job.string("state") == "running")
        #expect(job.job("spec")?.string("tenant") == "root")
        #expect(job.string("datacenter") != nil)

        let got = try await t.ok("io.karst.Scheduler.Get", ["id": .string("job-1")])
        #expect(got.job()?.string("submittedAt") == job.string("submittedAt"))

        _ = try await t.ok("io.karst.Scheduler.Submit", jobParams(extra: ["notBefore": .string("2030-01-01T00:00:00Z")]))
        let listed = try await t.ok("io.karst.Scheduler.List", ["state": .string("running")])
        #expect(listed["jobs"]?.arrayValue?.count == 1)

        let cancelled = try await t.ok("io.karst.Scheduler.Cancel", ["id": .string("job-1")])
        #expect(cancelled.job()?.string("state") == "cancelled")
        let again = try await t.fails("io.karst.Scheduler.Cancel", ["id": .string("job-1")])
        #expect(again == VarlinkError("io.karst.Scheduler.InvalidTransition", ["id": .string("job-1"), "state": .string("cancelled")]))
        try await t.close()
    }

    @Test(arguments: Depth.allCases)
    func errorsAreNamed(_ depth: Depth) async throws {
        let t = try await transport(depth)
        #expect(try await t.fails("io.karst.Scheduler.Get", ["id": .string("job-42")]).name == "io.karst.Scheduler.NoSuchJob")
        #expect(try await t.fails("io.karst.Scheduler.Get", ["id": .string("nonsense")]).name == "io.karst.Scheduler.NoSuchJob")
        #expect(try await t.fails("io.karst.Scheduler.Get", [:]) == .invalidParameter("id"))
        #expect(try await t.fails("io.karst.Scheduler.Get", ["id": .number(1)]) == .invalidParameter("id"))
        #expect(try await t.fails("io.karst.Scheduler.Submit", jobParams(extra: ["colour": .string("red")]))
                == .invalidParameter("job.colour"))
        #expect(try await t.fails("io.karst.Scheduler.Submit",
                                  ["job": .object(["origin": .string("gba"), "priorityClass": .string("batch"),
                                                   "resources": .object(["cpu": .string("4"), "memoryGiB": .number(1)])])])
                == .invalidParameter("job.resources.cpu"))
        #expect(try await t.fails("io.karst.Scheduler.Submit", jobParams(extra: ["notBefore": .string("tomorrow")]))
                == .invalidParameter("job.notBefore"))
        let invalid = try await t.fails("io.karst.Scheduler.Submit", jobParams(origin: "mars"))
        #expect(invalid.name == "io.karst.Scheduler.InvalidJob")
        #expect(invalid.parameters["field"] == .string("origin"))
        #expect(try await t.fails("io.karst.Scheduler.Submit", jobParams(cpu: 10_000)).name == "io.karst.Scheduler.Unschedulable")
        #expect(try await t.fails("io.karst.Scheduler.Submit", jobParams(cpu: 16, extra: ["tenant": .string("capped")]))
                == VarlinkError("io.karst.Scheduler.QuotaExceeded", ["tenant": .string("capped"), "resource": .string("cpu")]))
        #expect(try await t.fails("io.karst.Scheduler.Launch") == .methodNotFound("io.karst.Scheduler.Launch"))
        #expect(try await t.fails("io.example.Nothing.Do") == .interfaceNotFound("io.example.Nothing"))
        #expect(try await t.fails("io.karst.Scheduler.Watch") == .expectedMore)
        #expect(try await t.fails("io.karst.Admin.Drain", ["datacenter": .string("gamma")])
                == VarlinkError("io.karst.Admin.NoSuchDatacenter", ["datacenter": .string("gamma")]))
        #expect(try await t.fails("io.karst.Scheduler.List", ["state": .string("sleeping")]) == .invalidParameter("state"))
        try await t.close()
    }

    @Test(arguments: Depth.allCases)
    func serviceDescriptionAndInfo(_ depth: Depth) async throws {
        let t = try await transport(depth)
        let info = try await t.ok("org.varlink.service.GetInfo")
        #expect(info["interfaces"]?.arrayValue?.compactMap(\.stringValue)
                == ["org.varlink.service", "io.karst.Admin", "io.karst.Agent", "io.karst.Protocol", "io.karst.Scheduler"])
        for name in ["org.varlink.service", "io.karst.Scheduler", "io.karst.Admin", "io.karst.Agent", "io.karst.Protocol"] {
            let d = try await t.ok("org.varlink.service.GetInterfaceDescription", ["interface": .string(name)])
            let text = try #require(d.string("description"))
            #expect(try VarlinkInterface(parsing: text).name == name)
        }
        #expect(try await t.fails("org.varlink.service.GetInterfaceDescription", ["interface": .string("x.y")])
                == .interfaceNotFound("x.y"))
        try await t.close()
    }

    @Test(arguments: Depth.allCases)
    func adminMethods(_ depth: Depth) async throws {
        let t = try await transport(depth)
        let topo = try await t.ok("io.karst.Admin.Topology")
        #expect(topo["datacenters"]?.arrayValue?.count == 2)
        _ = try await t.ok("io.karst.Scheduler.Submit", jobParams(cpu: 8, memory: 8, duration: 3600, extra: ["datacenters": .array([.string("alpha")])]))
        let drained = try await t.ok("io.karst.Admin.Drain", ["datacenter": .string("alpha")])
        #expect(drained.job("datacenter")?.string("state") == "draining")
        let offline = try await t.ok("io.karst.Admin.SetOffline", ["datacenter": .string("alpha")])
        #expect(offline.job("datacenter")?.string("state") == "offline")
        let job = try await t.ok("io.karst.Scheduler.Get", ["id": .string("job-1")]).job()
        #expect(job?.string("state") == "pending")
        #expect(job?.string("pendingReason") == "datacenter-unavailable")
        _ = try await t.ok("io.karst.Admin.Resume", ["datacenter": .string("alpha")])
        let stats = try await t.ok("io.karst.Admin.Stats")
        #expect(stats["generation"] == .number(1))
        let metrics = try await t.ok("io.karst.Admin.Metrics")
        #expect(metrics.string("text")?.contains("karst_jobs_submitted_total{class=\"batch\"} 1") == true)
        // Without a configuration file the daemon reloads the built-in hub, which has no "alpha",
        // where job-1 runs: refused, and the old configuration stays.
        let refused = try await t.fails("io.karst.Admin.Reload")
        #expect(refused.name == "io.karst.Admin.InvalidConfig")
        #expect(try await t.ok("io.karst.Admin.Stats")["generation"] == .number(1))
        #expect(try await t.fails("io.karst.Admin.Backup", ["path": .string(shortTempDir() + "/backup.db")]).name
                == "org.varlink.service.MethodNotImplemented")
        try await t.close()
    }

    @Test(arguments: Depth.allCases)
    func dryRunStoresNothing(_ depth: Depth) async throws {
        let t = try await transport(depth)
        var p = jobParams(cpu: 2)
        p["dryRun"] = .bool(true)
        let answer = try await t.ok("io.karst.Scheduler.Submit", p)
        #expect(answer.job()?.string("datacenter") != nil)
        #expect(answer.job()?.string("estimatedStart") != nil)
        #expect(try await t.ok("io.karst.Scheduler.List")["jobs"]?.arrayValue?.isEmpty == true)
        try await t.close()
    }

    @Test(arguments: Depth.allCases)
    func batchIsAllOrNothing(_ depth: Depth) async throws {
        let t = try await transport(depth)
        let good = try #require(jobParams()["job"]), bad = try #require(jobParams(cpu: 5000)["job"])
        #expect(try await t.fails("io.karst.Scheduler.SubmitBatch", ["jobs": .array([good, bad])]).name
                == "io.karst.Scheduler.Unschedulable")
        let ok = try await t.ok("io.karst.Scheduler.SubmitBatch", ["jobs": .array([good, good, good])])
        #expect(ok["jobs"]?.arrayValue?.count == 3)
        // Brief: the ids only, in the order of the jobs.
        let brief = try await t.ok("io.karst.Scheduler.SubmitBatch", ["jobs": .array([good, good]), "brief": .bool(true)])
        #expect(brief["ids"] == .array([.string("job-4"), .string("job-5")]))
        #expect(brief["jobs"] == .array([]))
        try await t.close()
    }

    /// List pages: `after` is the cursor, `remaining` what follows the page; a cursor that is no
    /// job id is named with its bound.
    @Test(arguments: Depth.allCases)
    func listPagesWithACursor(_ depth: Depth) async throws {
        let t = try await transport(depth)
        let good = try #require(jobParams()["job"])
        _ = try await t.ok("io.karst.Scheduler.SubmitBatch", ["jobs": .array(Array(repeating: good, count: 5))])
        let first = try await t.ok("io.karst.Scheduler.List", ["limit": .number(2)])
        #expect(first["jobs"]?.arrayValue?.compactMap { $0.objectValue?["id"]?.stringValue } == ["job-1", "job-2"])
        #expect(first["remaining"] == .number(3))
        let next = try await t.ok("io.karst.Scheduler.List", ["limit": .number(2), "after": .string("job-2")])
        #expect(next["jobs"]?.arrayValue?.compactMap { $0.objectValue?["id"]?.stringValue } == ["job-3", "job-4"])
        #expect(next["remaining"] == .number(1))
        let last = try await t.ok("io.karst.Scheduler.List", ["after": .string("job-4")])
        #expect(last["remaining"] == .number(0))
        let bad = try await t.fails("io.karst.Scheduler.List", ["after": .string("yesterday")])
        #expect(bad.name == "io.karst.Scheduler.OutOfRange")
        #expect(bad.parameters["parameter"] == .string("after"))
        try await t.close()
    }

    /// ListSummaries is List's page as a table shows it: the same jobs, cursor and errors, each
    /// job's summary holding exactly the `Job` members (and spec's tenant and class) it names.
    @Test(arguments: Depth.allCases)
    func summariesAreListsPageAsATableShowsIt(_ depth: Depth) async throws {
        let t = try await transport(depth)
        _ = try await t.ok("io.karst.Scheduler.Submit", jobParams(cpu: 4, memory: 8, duration: 600))
        for _ in 0..<4 { _ = try await t.ok("io.karst.Scheduler.Submit", jobParams(cls: "online", cpu: 64, memory: 8)) }
        _ = try await t.ok("io.karst.Scheduler.Submit", jobParams(extra: ["notBefore": .string("2030-01-01T00:00:00Z")]))
        _ = try await t.ok("io.karst.Scheduler.Submit", jobParams(cpu: 2, memory: 2, extra: ["replicas": .number(3)]))
        let shared = ["id", "state", "datacenter", "pool", "shards", "submittedAt", "queuePosition", "estimatedStart",
                      "pendingReason"]
        for query: JSONObject in [[:], ["state": .string("pending")], ["limit": .number(3), "after": .string("job-2")]] {
            let full = try await t.ok("io.karst.Scheduler.List", query)
            let rows = try await t.ok("io.karst.Scheduler.ListSummaries", query)
            #expect(rows["remaining"] == full["remaining"])
            let jobs = full["jobs"]?.arrayValue?.compactMap(\.objectValue) ?? []
            let summaries = rows["jobs"]?.arrayValue?.compactMap(\.objectValue) ?? []
            #expect(summaries.count == jobs.count && !jobs.isEmpty)
            for (job, summary) in zip(jobs, summaries) {
                var expected: JSONObject = [:]
                for key in shared { if let v = job[key] { expected[key] = v } }
                expected["tenant"] = job.job("spec")?["tenant"]
                expected["priorityClass"] = job.job("spec")?["priorityClass"]
                func members(_ o: JSONObject) -> [String: JSONValue] {
                    Dictionary(o.members.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
                }
                #expect(members(summary) == members(expected))
            }
        }
        // Pending jobs show where and why they wait, as List says.
        let pending = try await t.ok("io.karst.Scheduler.ListSummaries", ["state": .string("pending")])
        #expect(pending["jobs"]?.arrayValue?.contains { $0.objectValue?["pendingReason"] != nil } == true)
        let outOfRange: [(JSONObject, String)] = [(["after": .string("yesterday")], "after"), (["limit": .number(0)], "limit")]
        for (params, parameter) in outOfRange {
            let bad = try await t.fails("io.karst.Scheduler.ListSummaries", params)
            #expect(bad == (try await t.fails("io.karst.Scheduler.List", params)))
            #expect(bad.name == "io.karst.Scheduler.OutOfRange" && bad.parameters["parameter"] == .string(parameter))
        }
        let unknown = try await t.fails("io.karst.Scheduler.ListSummaries", ["datacenter": .string("atlantis")])
        #expect(unknown.name == "io.karst.Admin.NoSuchDatacenter")
        #expect(try await t.fails("io.karst.Scheduler.ListSummaries", ["state": .string("sleeping")]) == .invalidParameter("state"))
        try await t.close()
    }

    @Test(arguments: Depth.allCases)
    func holdReleaseComplete(_ depth: Depth) async throws {
        let t = try await transport(depth)
        _ = try await t.ok("io.karst.Scheduler.Submit", jobParams(cpu: 64, memory: 8))
        _ = try await t.ok("io.karst.Scheduler.Submit", jobParams(cpu: 64, memory: 8))
        _ = try await t.ok("io.karst.Scheduler.Submit", jobParams(cpu: 64, memory: 8))
        let held = try await t.ok("io.karst.Scheduler.Hold", ["id": .string("job-3")])
        #expect(held.job()?.string("state") == "held")
        let done = try await t.ok("io.karst.Scheduler.Complete", ["id": .string("job-1"), "outcome": .string("failed"),
                                                                  "message": .string("exit 3")])
        #expect(done.job()?.string("state") == "failed")
        #expect(done.job()?.string("message") == "exit 3")
        #expect(try await t.fails("io.karst.Scheduler.Complete", ["id": .string("job-2"), "outcome": .string("maybe")]).name
                == "io.karst.Scheduler.OutOfRange")
        let released = try await t.ok("io.karst.Scheduler.Release", ["id": .string("job-3")])
        #expect(released.job()?.string("state") == "running")
        try await t.close()
    }
}
