import Foundation
import KarstConfig
import KarstCore
import KarstProtocol
import Testing

/// The real `karstctl` binary against a live daemon: output shapes, error lines, exit codes.
@Suite struct KarstctlTests {
    static var built: Bool {
        FileManager.default.isExecutableFile(atPath: productsDirectory.appendingPathComponent("karstctl").path)
    }

    func karstctl(_ d: LiveDaemon?, _ args: [String]) throws -> (Int32, String, String) {
        let path = productsDirectory.appendingPathComponent("karstctl").path
        var env = ProcessInfo.processInfo.environment
        env["KARST_SOCKET"] = d?.socket ?? "/nonexistent/karstd.sock"
        return try runProcess(path, args, environment: env)
    }

    @Test(.enabled(if: built, "needs a built karstctl"))
    func aTraceLoadsIntoTheDaemonAndExportsBack() async throws {
        var config = KarstConfiguration.builtIn()
        config.server.socketMode = 0o666
        let d = try await LiveDaemon(config)
        let sample = CrashTests.repoRoot.appendingPathComponent("Config/traces/sample-day.csv").path
        let load = try karstctl(d, ["load-trace", sample, "--first", "200"])
        #expect(load.0 == 0, "\(load.2)")
        #expect(load.1.hasPrefix("200 jobs from"))
        let c = try d.connect()
        #expect(try c.call("io.karst.Scheduler.List", ["limit": .number(1000)])["jobs"]?.arrayValue?.count == 200)
        c.close()
        // The daemon's history (on its manual clock, months back) comes back as a trace of the
        // same layout: a header and 200 rows.
        let export = try karstctl(d, ["export-trace", "--since", "3650d"])
        #expect(export.0 == 0, "\(export.2)")
        let lines = export.1.split(separator: "\n").filter { !$0.hasPrefix("#") }
        #expect(lines.count == 201, "\(lines.prefix(3))")
        #expect(lines.first?.contains("job_id") == true)
        try await d.stop()
    }

    @Test(.enabled(if: built, "needs a built karstctl"))
    func aJobFileIsReadByTheWireTypeAndFlagsOverrideIt() async throws {
        let d = try await LiveDaemon()
        let file = NSTemporaryDirectory() + "karstctl-job-\(getpid()).json"
        defer { try? FileManager.default.removeItem(atPath: file) }
        // The file lacks the origin the flag gives; the flag's cpu overrides the file's.
        try #"{"priorityClass": "batch", "resources": {"cpu": 64, "memoryGiB": 2}, "labels": {"a": "b"}}"#
            .write(toFile: file, atomically: true, encoding: .utf8)
        let ok = try karstctl(d, ["submit", "--file", file, "--origin", "local", "--cpu", "1", "--json"])
        #expect(ok.0 == 0, "\(ok.2)")
        let job = try JSONParser.parse(Array(ok.1.utf8)).objectValue?["job"]?.objectValue?["spec"]?.objectValue
        #expect(job?["origin"] == .string("local"))
        #expect(job?["resources"]?.objectValue?["cpu"] == .number(1))
        #expect(job?["labels"] == .object(["a": .string("b")]), "\(ok.1)")
        // A misspelt member is named, before anything is sent.
        try #"{"origin": "local", "priorityClass": "batch", "resources": {"cpu": 1, "memoryGiB": 2}, "durationSecs": 5}"#
            .write(toFile: file, atomically: true, encoding: .utf8)
        let bad = try karstctl(d, ["submit", "--file", file])
        #expect(bad.0 != 0)
        #expect(bad.2.contains("job.durationSecs"), "\(bad.2)")
        try await d.stop()
    }

    /// A command after `--` (options there are the command's), `--env` and `--workdir` reach the
    /// spec as given; `get` shows them, the command quoted as a shell would take it back.
    @Test(.enabled(if: built, "needs a built karstctl"))
    func aCommandItsEnvironmentAndWorkingDirectoryFromTheCommandLine() async throws {
        let d = try await LiveDaemon(testConfiguration { c in
            for i in c.topology.datacenters.indices where c.topology.datacenters[i].id == "beta" {
                c.topology.datacenters[i].executor = .agents
            }
        })
        let base = ["submit", "--origin", "local", "--class", "batch", "--cpu", "1", "--memory", "1"]
        let submit = try karstctl(d, base + ["--env", "GREETING=hi", "--env", "OPTS=a=b", "--workdir", "/srv/jobs",
                                             "--", "/bin/sh", "-c", "echo \"$GREETING\" it's", "--label", ""])
        #expect(submit.0 == 0, "\(submit.2)")
        #expect(submit.1.hasPrefix("job-1 pending"), "\(submit.1)")

        let json = try karstctl(d, ["get", "job-1", "--json"])
        let spec = try JSONParser.parse(Array(json.1.utf8)).objectValue?["job"]?.objectValue?["spec"]?.objectValue
        #expect(spec?["command"] == .array(["/bin/sh", "-c", "echo \"$GREETING\" it's", "--label", ""].map(JSONValue.string)))
        #expect(spec?["environment"] == .object(["GREETING": .string("hi"), "OPTS": .string("a=b")]))
        #expect(spec?["workingDirectory"] == .string("/srv/jobs"))
        #expect(spec?["labels"] == nil)

        let get = try karstctl(d, ["get", "job-1"])
        func field(_ name: String) -> String? {
            get.1.split(separator: "\n").first { $0.hasPrefix(name + ":") }
                .map { String($0.dropFirst(name.count + 1).drop { $0 == " " }) }
        }
        #expect(field("Command") == #"/bin/sh -c 'echo "$GREETING" it'\''s' --label ''"#, "\(get.1)")
        #expect(field("Environment") == "GREETING OPTS", "\(get.1)")
        #expect(field("Working directory") == "/srv/jobs", "\(get.1)")

        // A job without a command shows none of them.
        #expect(try karstctl(d, base).0 == 0)
        let plain = try karstctl(d, ["get", "job-2"])
        #expect(!plain.1.contains("Command:") && !plain.1.contains("Environment:") && !plain.1.contains("Working directory:"))

        // --env without a name is bad usage, caught before anything is sent; a relative --workdir is
        // the daemon's InvalidJob, stating the bound.
        let noKey = try karstctl(d, base + ["--env", "=x", "--", "/bin/true"])
        #expect(noKey.0 == 64 && noKey.2.contains("--env must be KEY=VALUE"), "\(noKey)")
        let relative = try karstctl(d, base + ["--workdir", "jobs", "--", "/bin/true"])
        #expect(relative.0 == 1)
        #expect(relative.2.contains("InvalidJob: the job is invalid: workingDirectory: must be an absolute path"), "\(relative.2)")

        let help = try karstctl(nil, ["submit", "--help"])
        #expect(help.1.contains("-- /bin/sh -c 'echo hi'"), "\(help.1)")
        try await d.stop()
    }

    @Test(.enabled(if: built, "needs a built karstctl"))
    func aSessionFromTheCommandLine() async throws {
        let d = try await LiveDaemon()
        let submit = try karstctl(d, ["submit", "--origin", "local", "--class", "online", "--cpu", "2", "--memory", "4",
                                      "--duration", "30m", "--name", "web", "--label", "team=blue"])
        #expect(submit.0 == 0)
        #expect(submit.1 == "job-1 running alpha/cpu\n" || submit.1 == "job-1 running beta/cpu\n", "\(submit.1)")

        let dry = try karstctl(d, ["submit", "--origin", "local", "--class", "batch", "--cpu", "1", "--memory", "1", "--dry-run"])
        #expect(dry.1.contains("would start now in"))
        #expect(dry.1.contains("nothing stored"))

        let list = try karstctl(d, ["list"])
        let lines = list.1.split(separator: "\n")
        #expect(lines.first?.split(separator: " ", omittingEmptySubsequences: true)
                == ["ID", "TENANT", "CLASS", "STATE", "DC/POOL", "AGE", "POS", "ETA", "REASON"])
        #expect(lines.count == 2)

        let get = try karstctl(d, ["get", "job-1"])
        #expect(get.1.contains("Name:") && get.1.contains("web"))
        #expect(get.1.contains("State:") && get.1.contains("running"))

        let json = try karstctl(d, ["get", "job-1", "--json"])
        let parsed = try JSONParser.parse(Array(json.1.utf8))
        #expect(parsed.objectValue?["job"]?.objectValue?["spec"]?.objectValue?["labels"] == .object(["team": .string("blue")]))

        let topo = try karstctl(d, ["topology"])
        #expect(topo.1.contains("alpha") && topo.1.contains("%"))
        #expect(try karstctl(d, ["drain", "beta"]).1 == "beta draining\n")
        #expect(try karstctl(d, ["stats"]).1.contains("CLASS"))
        #expect(try karstctl(d, ["metrics"]).1.contains("# TYPE karst_jobs_running gauge"))
        #expect(try karstctl(d, ["info"]).1.contains("interfaces: org.varlink.service, io.karst.Admin"))
        #expect(try karstctl(d, ["cancel", "job-1"]).1 == "job-1 cancelled\n")
        try await d.stop()
    }

    @Test(.enabled(if: built, "needs a built karstctl"))
    func errorsNameTheVarlinkErrorAndUseTheDocumentedExitCodes() async throws {
        let d = try await LiveDaemon()
        let missing = try karstctl(d, ["get", "job-7"])
        #expect(missing.0 == 1)
        #expect(missing.2 == "karstctl: io.karst.Scheduler.NoSuchJob: no job has the id job-7.\n")

        let invalid = try karstctl(d, ["submit", "--origin", "mars", "--class", "batch", "--cpu", "1", "--memory", "1"])
        #expect(invalid.0 == 1)
        #expect(invalid.2.hasPrefix("karstctl: io.karst.Scheduler.InvalidJob: the job is invalid: origin: unknown region 'mars'"))

        let usage = try karstctl(d, ["submit", "--cpu", "1"])
        #expect(usage.0 == 64)

        let unreachable = try karstctl(nil, ["list"])
        #expect(unreachable.0 == 69)
        #expect(unreachable.2.contains("karstd is not reachable"))

        let completion = try karstctl(d, ["--generate-completion-script", "bash"])
        #expect(completion.0 == 0 && completion.1.contains("_karstctl"))
        try await d.stop()
    }
}
