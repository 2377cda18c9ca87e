import Foundation
import KarstAgent
import KarstClient
import KarstProtocol
import KarstTesting
import Testing

/// Remote site agents over TCP with mutual TLS: certificates made here with the openssl command
/// (a CA, the daemon's certificate for 127.0.0.1, agents' certificates naming their data centre,
/// one of another CA, one expired), karstd listening on 127.0.0.1 (`[agents]`), and the real
/// karst-agent connecting with `--connect`.
@Suite(.serialized) struct TLSAgentTests {
    static var possible: Bool {
        AgentProcessTests.built && FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl")
    }

    /// The certificates of one test, in `dir`: `NAME.pem` and `NAME.key`.
    struct Certificates {
        let dir: String

        init(_ dir: String) throws {
            self.dir = dir
            try authority("ca")
            try authority("other-ca")
            try issue("daemon", commonName: "karstd", by: "ca", days: 2, altNames: "IP:127.0.0.1,DNS:localhost")
            try issue("site", commonName: "site", by: "ca", days: 2)
            try issue("model", commonName: "model", by: "ca", days: 2)
            try issue("stranger", commonName: "site", by: "other-ca", days: 2)
            try issue("expired", commonName: "site", by: "ca", days: -1)  // not after: yesterday
        }

        func path(_ name: String) -> String { "\(dir)/\(name).pem" }
        func key(_ name: String) -> String { "\(dir)/\(name).key" }

        private func openssl(_ args: [String]) throws {
            let (status, _, err) = try runProcess("/usr/bin/openssl", args)
            guard status == 0 else { throw Failure(what: "openssl \(args.joined(separator: " ")): \(err)") }
        }

        struct Failure: Error { var what: String }

        private func newKey(_ name: String) throws {
            try openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key(name)])
        }

        private func authority(_ name: String) throws {
            try newKey(name)
            try openssl(["req", "-x509", "-new", "-key", key(name), "-out", path(name), "-subj", "/CN=\(name)", "-days", "2"])
        }

        private func issue(_ name: String, commonName: String, by ca: String, days: Int, altNames: String? = nil) throws {
            try newKey(name)
            try openssl(["req", "-new", "-key", key(name), "-out", "\(dir)/\(name).csr", "-subj", "/CN=\(commonName)"])
            var args = ["x509", "-req", "-in", "\(dir)/\(name).csr", "-CA", path(ca), "-CAkey", key(ca), "-CAcreateserial",
                        "-out", path(name), "-days", "\(days)"]
            if let altNames {
                try "subjectAltName=\(altNames)\n".write(toFile: "\(dir)/\(name).ext", atomically: true, encoding: .utf8)
                args += ["-extfile", "\(dir)/\(name).ext"]
            }
            try openssl(args)
        }
    }

    /// A daemon listening for remote agents on 127.0.0.1 with `certificates`.
    static func hub() throws -> (AgentProcessTests.Hub, Certificates, Int) {
        let certsDir = TemporaryDirectories.make(prefix: "tls")
        let certs = try Certificates(certsDir)
        let port = Int.random(in: 30_000...39_000)
        let hub = try AgentProcessTests.Hub(tables: """
            [agents]
            listen = "127.0.0.1:\(port)"
            ca = "\(certs.path("ca"))"
            certificate = "\(certs.path("daemon"))"
            key = "\(certs.key("daemon"))"
            """, daemonLogLevel: "info")
        return (hub, certs, port)
    }

    /// `karst-agent --connect` with certificate `cert` (its key beside it) trusting `ca`.
    static func remoteAgent(_ hub: AgentProcessTests.Hub, _ name: String, port: Int, cert: String, ca: String = "ca",
                            _ certs: Certificates) throws {
        hub.agents[name] = try hub.launch("karst-agent", [
            "--connect", "127.0.0.1:\(port)", "--ca", certs.path(ca), "--cert", certs.path(cert), "--key", certs.key(cert),
            "--datacenter", "site", "--name", name, "--state-dir", hub.dir + "/agent-" + name, "--log-target", "stderr",
        ])
    }

    static func daemonLog(_ hub: AgentProcessTests.Hub) -> String {
        (try? String(contentsOfFile: hub.dir + "/karstd.log", encoding: .utf8)) ?? ""
    }

    static func agentLog(_ hub: AgentProcessTests.Hub) -> String {
        (try? String(contentsOfFile: hub.dir + "/karst-agent.log", encoding: .utf8)) ?? ""
    }

    @Test(.enabled(if: possible, "needs built karstd and karst-agent, and openssl"))
    func aRemoteAgentOverMutualTLSRunsAJobAndMayMakeAgentCallsOnly() async throws {
        let (hub, certs, port) = try Self.hub()
        defer { hub.stop() }
        #expect(try await eventually { FileManager.default.fileExists(atPath: hub.socket) })
        #expect(try await eventually { Self.daemonLog(hub).contains("127.0.0.1:\(port) for remote agents") }, "\(Self.daemonLog(hub))")
        try Self.remoteAgent(hub, "a1", port: port, cert: "site", certs)
        let c = try VarlinkConnection(path: hub.socket)
        defer { c.close() }
        let id = try hub.submit(c, "echo over-tls")
        #expect(try await eventually(30) { try hub.state(c, id) == "succeeded" }, "\(hub.diagnostics())\n\(Self.daemonLog(hub))")
        #expect(Self.daemonLog(hub).contains("agent a1 of site connected over TLS from"), "\(Self.daemonLog(hub))")
        #expect(hub.log() == ["start \(id).1", "end \(id).1"])
        // The certificate grants the agent's calls of its data centre, nothing else.
        let remote = try RemoteDaemon(host: "127.0.0.1", port: port, ca: certs.path("ca"), certificate: certs.path("site"),
                                      key: certs.key("site"))
        let r = try remote.connect(timeoutSeconds: 5)
        defer { r.close() }
        #expect(throws: VarlinkError.permissionDenied) { _ = try r.call(SchedulerInterface.List.name) }
        #expect(throws: VarlinkError.permissionDenied) {
            _ = try r.call(SchedulerInterface.Submit.name, SchedulerInterface.Submit.Parameters(job: WireJobSpec(
                origin: "local", priorityClass: "batch", resources: WireResources(cpu: 1, memoryGiB: 1))).jsonObject)
        }
        #expect(try r.call(ProtocolInterface.Ping.name)["text"] == .string("pong"))
    }

    @Test(.enabled(if: possible, "needs built karstd and karst-agent, and openssl"))
    func plaintextAnUntrustedOrExpiredCertificateAndAnotherDatacentreAreRefused() async throws {
        let (hub, certs, port) = try Self.hub()
        defer { hub.stop() }
        #expect(try await eventually { Self.daemonLog(hub).contains("127.0.0.1:\(port) for remote agents") }, "\(Self.daemonLog(hub))")
        // Plaintext: a Varlink call over bare TCP gets no answer, only a closed connection.
        let answer = try Self.plaintextCall(port: port)
        #expect(answer.isEmpty || !answer.contains(UInt8(ascii: "{")), "a plaintext call was answered: \(answer)")
        #expect(try await eventually { Self.daemonLog(hub).contains("not TLS") }, "\(Self.daemonLog(hub))")
        // Certificates of another CA, expired, and of another data centre.
        try Self.remoteAgent(hub, "stranger", port: port, cert: "stranger", certs)
        try Self.remoteAgent(hub, "expired", port: port, cert: "expired", certs)
        try Self.remoteAgent(hub, "claims-site", port: port, cert: "model", certs)
        try Self.remoteAgent(hub, "distrusts", port: port, cert: "site", ca: "other-ca", certs)
        let agentSays = [
            "the daemon refused this agent's certificate: it is not signed by a CA the daemon trusts",
            "the daemon refused this agent's certificate: it has expired",
            "its certificate is for data centre model, not site",
            "the daemon's certificate failed verification against --ca",
        ]
        #expect(try await eventually(20) { agentSays.allSatisfy(Self.agentLog(hub).contains) }, "\(Self.agentLog(hub))")
        let daemonSays = [
            "its certificate failed verification against [agents] ca",
            "refused remote agent of model at",
            "the agent does not trust this daemon's certificate",
        ]
        #expect(try await eventually(20) { daemonSays.allSatisfy(Self.daemonLog(hub).contains) }, "\(Self.daemonLog(hub))")
        let c = try VarlinkConnection(path: hub.socket)
        defer { c.close() }
        #expect(try c.call(AdminInterface.Agents.name)["agents"]?.arrayValue?.isEmpty == true, "a refused agent was registered")
    }

    /// A Varlink call over bare TCP to 127.0.0.1:`port`: what came back before the daemon closed
    /// the connection.
    static func plaintextCall(port: Int) throws -> [UInt8] {
        let call = Array(#"{"method":"io.karst.Protocol.Ping","parameters":{}}"#.utf8) + [0]
        guard let answer = loopbackExchange(port: port, call) else {
            throw ClientError.connect(path: "127.0.0.1:\(port)", reason: "refused")
        }
        return answer
    }
}
