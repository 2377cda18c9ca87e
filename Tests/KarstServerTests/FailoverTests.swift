import Foundation
import KarstClient
import KarstCore
import KarstProtocol
import KarstTesting
import Testing

/// Two release karstd replicas on one PostgreSQL 15 of the test's own: the leader is killed
/// with SIGKILL under load, over and over, and the standby takes over each time. Every call a
/// leader acknowledged must be there, exactly once, on whichever replica leads at the end.
@Suite(.serialized) struct FailoverTests {
    static let lease = 2.0

    static var possible: Bool { CrashTests.karstd != nil && PostgresCluster.possible }

    /// Config/karstd.toml (or `base`, a configuration without a `[state]` table) with the state in
    /// the cluster, for replica `name` serving `socket`.
    static func config(_ pg: PostgresCluster, name: String, socket: String, dir: String, lease: Double = lease,
                       base: String? = nil) throws -> String {
        let text = pg.replicaConfiguration(
            try base ?? String(contentsOf: CrashTests.repoRoot.appendingPathComponent("Config/karstd.toml"), encoding: .utf8),
            replica: name, address: socket, leaseSeconds: lease)
        let path = dir + "/\(name).toml"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    final class Replica {
        let name: String, socket: String, config: String, log: String, state: String
        var process: Process?

        init(_ name: String, dir: String, pg: PostgresCluster, lease: Double = FailoverTests.lease, base: String? = nil) throws {
            self.name = name
            socket = dir + "/\(name).sock"
            state = dir + "/\(name)-state"
            log = dir + "/\(name).log"
            config = try FailoverTests.config(pg, name: name, socket: socket, dir: dir, lease: lease, base: base)
        }

        /// `environment`: added to the test's own (a NOTIFY_SOCKET).
        func start(environment: [String: String] = [:]) throws {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: CrashTests.karstd!)
            p.arguments = ["--config", config, "--socket", socket, "--state-dir", state, "--log-level", "notice",
                           "--log-target", "stderr"]
            if !environment.isEmpty { p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
            _ = FileManager.default.createFile(atPath: log, contents: nil)
            let out = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
            out.seekToEndOfFile()
            p.standardError = out
            p.standardOutput = out
            try p.run()
            process = p
        }

        /// Starts it on a database no replica leads yet, and waits until it leads.
        func startLeading() async throws {
            try start()
            #expect(try await eventually(30) { answers }, "\(name) never led: \(tail)")
        }

        func kill9() {
            guard let p = process else { return }
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            process = nil
        }

        func stop() {
            guard let p = process else { return }
            p.terminate()
            p.waitUntilExit()
            process = nil
        }

        /// The end of its log.
        var tail: String { String(((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").suffix(3000)) }

        /// The error a call gets (a standby's NotLeader), nil when it is answered or not at all.
        var refusal: VarlinkError? {
            guard let c = try? VarlinkConnection(path: socket) else { return nil }
            defer { c.close() }
            do { _ = try c.call("io.karst.Protocol.Ping"); return nil } catch { return error as? VarlinkError }
        }

        /// Answers a call (it leads; a standby answers NotLeader).
        var answers: Bool {
            guard let c = try? VarlinkConnection(path: socket) else { return false }
            defer { c.close() }
            return (try? c.call("io.karst.Protocol.Ping")) != nil
        }
    }

    @Test(.enabled(if: possible, "needs the release karstd and PostgreSQL 15 (make test builds and installs both)"))
    func noAcknowledgedCallIsLostOrAppliedTwiceOverTwentyKillsOfTheLeader() async throws {
        let pg = try PostgresCluster()
        defer { pg.stop() }
        let dir = shortTempDir()
        let replicas = [try Replica("a", dir: dir, pg: pg), try Replica("b", dir: dir, pg: pg)]
        defer { for r in replicas { r.stop() } }
        try await replicas[0].startLeading()
        try replicas[1].start()
        var leader = 0
        var clients: [CrashClient] = []
        var failovers: [Double] = []
        var rng = SeededRandom(seed: 18)
        for round in 0..<20 {
            let standby = 1 - leader
            #expect(!replicas[standby].answers, "round \(round): the standby serves")
            // The standby answers with who leads and where.
            var said: VarlinkError? = nil
            #expect(try await eventually(10) { said = replicas[standby].refusal; return said?.parameters["leader"] == .string(replicas[leader].name) },
                    "round \(round): the standby says \(String(describing: said))")
            #expect(said?.name == "io.karst.Protocol.NotLeader" && said?.parameters["address"] == .string(replicas[leader].socket))
            let these = (0..<4).map { CrashClient(id: round * 10 + $0, socket: replicas[leader].socket, seed: UInt64(round * 10 + $0)) }
            clients += these
            for c in these { c.start() }
            _ = try await eventually(20) { these.reduce(0) { n, c in n + c.log.withLock { $0.submitted.count } } >= 100 }
            try await Task.sleep(for: .milliseconds(Int64(rng.next() % 300)))
            replicas[leader].kill9()
            let killed = Date()
            for c in these { c.join() }
            let tookOver = try await eventually(Self.lease * 5 + 10) { replicas[standby].answers }
            #expect(tookOver, "round \(round): \(replicas[standby].name) did not take over: \(replicas[standby].tail)")
            guard tookOver else { break }
            failovers.append(Date().timeIntervalSince(killed))
            try replicas[leader].start()  // back, as the standby
            leader = standby
        }
        let c = try VarlinkConnection(path: replicas[leader].socket)
        defer { c.close() }
        let jobs = try c.call("io.karst.Scheduler.List", ["limit": .number(100_000)])["jobs"]?.arrayValue ?? []
        let (submits, cancels, completes) = CrashTests.check(jobs, clients, "after \(failovers.count) failovers")
        #expect(submits >= 20 * 100, "the load was too light: \(submits) submits")
        let sorted = failovers.sorted()
        print("failover: \(failovers.count) kills of the leader; \(submits) submits, \(cancels) cancels, \(completes) completions acknowledged, \(jobs.count) jobs; takeover p50 \(String(format: "%.2f", sorted[sorted.count / 2])) s, max \(String(format: "%.2f", sorted.last ?? 0)) s (lease \(Self.lease) s)")
        #expect((sorted.last ?? 99) < Self.lease + 5, "a takeover took \(sorted.last ?? 0) s")
    }

    /// A leader stopped (SIGSTOP) past its lease: the standby takes over; when the old leader is
    /// continued it answers nothing it received meanwhile as done, commits nothing, and steps
    /// down (exit status 75, for the service manager to start it again as a standby).
    @Test(.enabled(if: possible, "needs the release karstd and PostgreSQL 15 (make test builds and installs both)"))
    func aLeaderPausedPastItsLeaseCommitsNothingAndStepsDown() async throws {
        let pg = try PostgresCluster()
        defer { pg.stop() }
        let dir = shortTempDir()
        let a = try Replica("a", dir: dir, pg: pg), b = try Replica("b", dir: dir, pg: pg)
        defer { a.stop(); b.stop() }
        try await a.startLeading()
        try b.start()
        func submit(_ c: VarlinkConnection, _ key: String) throws -> VarlinkReply.Parsed {
            try c.send(VarlinkCall(method: "io.karst.Scheduler.Submit", parameters: jobParams(
                origin: "gba", cpu: 0.001, memory: 0.001, extra: ["labels": .object(["op": .string(key)])])).framed)
            return try c.receive()
        }
        let early = try VarlinkConnection(path: a.socket)
        #expect(try submit(early, "before").error == nil)
        let late = try VarlinkConnection(path: a.socket)

        // b, the standby, tells a client who leads and where (karstctl prints it).
        let ctl = productsDirectory.appendingPathComponent("karstctl").path
        // Its very first answer already names the leader (it answers only once it has read the lease).
        var first: VarlinkError? = nil
        #expect(try await eventually(10) { first = b.refusal; return first != nil }, "b never answered as a standby: \(b.tail)")
        #expect(first.flatMap { ProtocolInterface.NotLeader($0) }?.leader == "a", "b's first answer: \(String(describing: first))")
        let (status, _, stderr) = try runProcess(ctl, ["list"], environment: ["KARST_SOCKET": b.socket])
        #expect(status != 0 && stderr.contains("this replica is a standby; a leads (epoch ") && stderr.contains("call it at \(a.socket)"),
                "\(status): \(stderr)")

        kill(a.process!.processIdentifier, SIGSTOP)
        #expect(try await eventually(Self.lease * 5 + 10) { b.answers }, "b did not take over: \(b.tail)")
        let onB = try VarlinkConnection(path: b.socket)
        defer { onB.close() }
        #expect(try submit(onB, "during").error == nil)
        // Sent to the paused leader: it reads it only once continued.
        try late.send(VarlinkCall(method: "io.karst.Scheduler.Submit", parameters: jobParams(
            origin: "gba", cpu: 0.001, memory: 0.001, extra: ["labels": .object(["op": .string("stale")])])).framed)

        kill(a.process!.processIdentifier, SIGCONT)
        let reply = try? late.receive()
        #expect(reply == nil || reply?.error != nil, "the paused leader acknowledged a call: \(String(describing: reply))")
        let stepped = try await eventually(10) { !(a.process?.isRunning ?? false) }
        #expect(stepped, "a did not step down: \(a.tail)")
        if stepped { #expect(a.process?.terminationStatus == 75, "a exited \(a.process?.terminationStatus ?? -1): \(a.tail)") }
        #expect(a.tail.contains("stepping down"), "\(a.tail)")

        let keys = (try onB.call("io.karst.Scheduler.List", ["limit": .number(1000)])["jobs"]?.arrayValue ?? []).compactMap {
            $0.objectValue?["spec"]?.objectValue?["labels"]?.objectValue?["op"]?.stringValue
        }
        #expect(keys.sorted() == ["before", "during"], "\(keys)")
        early.close()
        late.close()
    }

    /// The database restarts under a live leader (within its lease): calls meanwhile are refused
    /// `StorageUnavailable`, nothing acknowledged is lost, and writes resume once it is back.
    @Test(.enabled(if: possible, "needs the release karstd and PostgreSQL 15 (make test builds and installs both)"))
    func aDatabaseRestartIsStorageUnavailableThenNothingIsLost() async throws {
        let pg = try PostgresCluster()
        defer { pg.stop() }
        let dir = shortTempDir()
        let a = try Replica("a", dir: dir, pg: pg, lease: 20)
        defer { a.stop() }
        try await a.startLeading()
        let c = try VarlinkConnection(path: a.socket)
        defer { c.close() }
        func submit(_ key: String) -> VarlinkReply.Parsed? {
            try? c.send(VarlinkCall(method: "io.karst.Scheduler.Submit", parameters: jobParams(
                origin: "gba", cpu: 0.001, memory: 0.001, extra: ["labels": .object(["op": .string(key)])])).framed)
            return try? c.receive()
        }
        var acknowledged: Set<String> = []
        for i in 0..<20 where submit("before-\(i)")?.error == nil { acknowledged.insert("before-\(i)") }
        #expect(acknowledged.count == 20)

        pg.kill9()
        let refused = submit("during")
        #expect(refused?.error?.name == "io.karst.Scheduler.StorageUnavailable", "\(String(describing: refused))")
        try pg.start()
        // The engine probes every pass; writes are taken again once one succeeds.
        var resumed = false
        for i in 0..<100 {
            if submit("after-\(i)")?.error == nil {
                acknowledged.insert("after-\(i)")
                resumed = true
                break
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(resumed, "writes did not resume: \(a.tail)")
        #expect(a.process?.isRunning == true, "the leader stepped down within its lease: \(a.tail)")
        let keys = Set((try c.call("io.karst.Scheduler.List", ["limit": .number(1000)])["jobs"]?.arrayValue ?? []).compactMap {
            $0.objectValue?["spec"]?.objectValue?["labels"]?.objectValue?["op"]?.stringValue
        })
        #expect(keys == acknowledged, "stored \(keys.sorted()), acknowledged \(acknowledged.sorted())")
    }

    /// A site agent given both replicas' sockets, with four runs going, and the leader killed
    /// (its connections end at once) or paused (they go silent: the agent's reports time out):
    /// the agent finds the new leader (its epoch newer), the new leader lists the same leases,
    /// and every run ends once, as its first attempt, reported to the new leader. A paused leader,
    /// continued, steps down.
    @Test(.enabled(if: possible && AgentProcessTests.built, "needs the release karstd, karst-agent and PostgreSQL 15 (make test builds and installs them)"),
          arguments: ["killed", "paused"])
    func aSiteAgentsRunsCarryOverAFailoverWithoutASecondAttempt(_ leader: String) async throws {
        let pg = try PostgresCluster()
        defer { pg.stop() }
        let dir = shortTempDir()
        // The agents' fence outlasts a takeover (2 s lease + 0.5 s renewal + 10 s: the configuration requires it).
        let base = "[settings]\nagent_fence_seconds = 13\nagent_lost_seconds = 16\n" + TestConfigs.toml(datacenters: [("site", 8, 32)])
            .replacingOccurrences(of: "id = \"site\"\n", with: "id = \"site\"\nexecutor = \"agents\"\n")
        let a = try Replica("a", dir: dir, pg: pg, base: base), b = try Replica("b", dir: dir, pg: pg, base: base)
        defer { a.stop(); b.stop() }
        try await a.startLeading()
        try b.start()
        // Its very first answer already names the leader (it answers only once it has read the lease).
        var first: VarlinkError? = nil
        #expect(try await eventually(10) { first = b.refusal; return first != nil }, "b never answered as a standby: \(b.tail)")
        #expect(first.flatMap { ProtocolInterface.NotLeader($0) }?.leader == "a", "b's first answer: \(String(describing: first))")

        let agentLog = dir + "/agent.log"
        let agent = Process()
        agent.executableURL = productsDirectory.appendingPathComponent("karst-agent")
        agent.arguments = ["--socket", a.socket, "--socket", b.socket, "--datacenter", "site", "--name", "s1",
                           "--state-dir", dir + "/agent", "--log-target", "stderr"]
        _ = FileManager.default.createFile(atPath: agentLog, contents: nil)
        agent.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: agentLog))
        try agent.run()
        defer { agent.terminate(); agent.waitUntilExit() }
        func agentTail() -> String { String(((try? String(contentsOfFile: agentLog, encoding: .utf8)) ?? "").suffix(3000)) }

        let runs = dir + "/runs.log"
        func submit(_ c: VarlinkConnection, seconds: Int) throws -> String {
            let script = #"echo "start $KARST_JOB.$KARST_ATTEMPT" >> "$LOG"; sleep "$SECONDS_TO_RUN"; echo "end $KARST_JOB.$KARST_ATTEMPT" >> "$LOG""#
            let spec = WireJobSpec(origin: "local", priorityClass: "batch", resources: WireResources(cpu: 1, memoryGiB: 1),
                                   durationSeconds: Double(seconds), command: ["/bin/sh", "-c", script],
                                   environment: ["LOG": runs, "SECONDS_TO_RUN": "\(seconds)"])
            return try #require(try c.call(SchedulerInterface.Submit.name, SchedulerInterface.Submit.Parameters(job: spec).jsonObject)
                .job()?.string("id"))
        }
        func lines() -> [String] {
            ((try? String(contentsOfFile: runs, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        }
        let onA = try VarlinkConnection(path: a.socket)
        let ids = try (0..<4).map { _ in try submit(onA, seconds: 8) }
        onA.close()
        #expect(try await eventually(30) { lines().filter { $0.hasPrefix("start") }.count == 4 },
                "the runs did not start: \(lines()) \(agentTail())")

        let pid = a.process!.processIdentifier
        if leader == "killed" { a.kill9() } else { kill(pid, SIGSTOP) }
        defer { if leader == "paused" { kill(pid, SIGCONT) } }
        let killed = Date()
        #expect(try await eventually(Self.lease * 5 + 10) { b.answers }, "b did not take over: \(b.tail)")
        let tookOver = Date().timeIntervalSince(killed)
        #expect(try await eventually(10) { agentTail().contains("connected to \(b.socket)") }, "\(agentTail())")
        let followed = Date().timeIntervalSince(killed)
        let onB = try VarlinkConnection(path: b.socket)
        defer { onB.close() }
        // A job placed by the new leader runs too (its lease under the new epoch).
        let after = try submit(onB, seconds: 1)
        func state(_ id: String) -> JSONObject? { try? onB.call(SchedulerInterface.Get.name, ["id": .string(id)]).job() }
        let done = try await eventually(40) { (ids + [after]).allSatisfy { state($0)?.string("state") == "succeeded" } }
        #expect(done, "\((ids + [after]).map { "\($0): \(state($0)?.string("state") ?? "?")" }) \(lines()) \(agentTail())")
        for id in ids + [after] {
            #expect(state(id)?["attempts"] == .number(1), "\(id) ran again: \(String(describing: state(id)))")
            #expect(lines().filter { $0 == "start \(id).1" }.count == 1 && lines().filter { $0 == "end \(id).1" }.count == 1,
                    "\(id): \(lines())")
        }
        #expect(!lines().contains { $0.hasSuffix(".2") }, "a second attempt ran: \(lines())")
        if leader == "paused" {
            kill(pid, SIGCONT)
            #expect(try await eventually(10) { !(a.process?.isRunning ?? false) }, "a did not step down: \(a.tail)")
            #expect(a.process?.terminationStatus == 75 && a.tail.contains("stepping down"), "\(a.tail)")
        }
        let log = agentTail()
        print("agent failover (leader \(leader)): b took over \(String(format: "%.2f", tookOver)) s after, the agent followed at "
            + "\(String(format: "%.2f", followed)) s; 4 runs carried over, each run once; agent log:\n"
            + log.split(separator: "\n").filter { $0.contains("connected") || $0.contains("epoch") || $0.contains("leader") }
                .joined(separator: "\n"))
        #expect(log.contains("connected to \(b.socket)") && log.contains("leader epoch 2"), "\(log)")
        #expect(!log.contains("killing every run") && !log.contains("agent fenced"), "the agent fenced its runs: \(log)")
    }

    /// Under systemd (Type=notify, a watchdog) a standby is a service that has started: READY=1
    /// with its standby status, WATCHDOG=1 while it waits (without them `systemctl start` would
    /// wait for it to lead, and time out, and the watchdog would kill it); READY=1 again, serving,
    /// once it leads.
    @Test(.enabled(if: possible, "needs the release karstd and PostgreSQL 15 (make test builds and installs both)"))
    func aStandbyTellsSystemdItStartedAndIsAliveThenThatItServes() async throws {
        let pg = try PostgresCluster()
        defer { pg.stop() }
        let dir = shortTempDir()
        let a = try Replica("a", dir: dir, pg: pg), b = try Replica("b", dir: dir, pg: pg)
        defer { a.stop(); b.stop() }
        try await a.startLeading()
        let listener = try NotifyListener(path: dir + "/notify")
        try b.start(environment: ["NOTIFY_SOCKET": dir + "/notify", "WATCHDOG_USEC": "3000000"])
        let ready = listener.next(matching: "READY=1", within: 15)
        #expect(ready?.contains("STATUS=standby; leader is a at \(a.socket), epoch 1") == true, "\(String(describing: ready)) \(b.tail)")
        #expect(listener.maxGap(of: "WATCHDOG=1", over: 3) < 1.5, "a standby's watchdog pings stopped")
        a.stop()
        let serving = listener.next(matching: "serving on", within: Self.lease * 5 + 10)
        #expect(serving?.contains("READY=1") == true, "\(String(describing: serving)) \(b.tail)")
        #expect(b.answers)
    }
}
