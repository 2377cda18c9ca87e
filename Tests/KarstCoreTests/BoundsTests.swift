import KarstCore
import KarstTesting
import Testing

/// Every bound of a job spec refuses with a named error whose reason states the bound; sizes no
/// pool could ever hold are `Unschedulable` with the size they exceed.
@Suite struct BoundsTests {
    /// Site agents run the commands of `site`, so a job with a command within its bounds is accepted.
    static let hub = TopologyBuilder().datacenter("a", pools: [("cpu", 16, 64, 0, nil), ("gpu", 32, 256, 8, "h20")])
        .datacenter("site", pools: [("cpu", 16, 64, 0, nil)]).agents("site").topology
    let h = ScenarioHarness(hub)

    func refusal(_ edit: (inout JobSpec) -> Void) -> SchedulerError? {
        var spec = JobBuilder.job().spec
        edit(&spec)
        do throws(SchedulerError) {
            try h.state.check(spec)
            return nil
        } catch { return error }
    }

    func expectInvalid(_ field: String, mentions: String, _ edit: (inout JobSpec) -> Void,
                       sourceLocation: SourceLocation = #_sourceLocation) {
        guard case .invalidJob(let f, let reason)? = refusal(edit) else {
            Issue.record("expected InvalidJob(\(field)), got \(String(describing: refusal(edit)))", sourceLocation: sourceLocation)
            return
        }
        #expect(f == field, sourceLocation: sourceLocation)
        #expect(reason.contains(mentions), "reason: \(reason)", sourceLocation: sourceLocation)
    }

    @Test func theCallThatStoppedTheHubIsRefusedStatingTheBound() {
        // durationSeconds 1e18 trapped the daemon in the pass before bounds were checked.
        expectInvalid("durationSeconds", mentions: "at most 2678400", { $0.durationSeconds = 1e18 })
        expectInvalid("durationSeconds", mentions: "at most 2678400", { $0.durationSeconds = 1e12 })
        expectInvalid("durationSeconds", mentions: "greater than 0", { $0.durationSeconds = 0 })
        expectInvalid("durationSeconds", mentions: "not inf", { $0.durationSeconds = .infinity })
        expectInvalid("durationSeconds", mentions: "not nan", { $0.durationSeconds = .nan })
    }

    @Test func sizesBelowTheSmallestUnitAreRefused() {
        expectInvalid("resources.cpu", mentions: "≥ 0.001", { $0.resources.cpu = 1e-9 })
        expectInvalid("resources.memoryGiB", mentions: "one MiB", { $0.resources.memoryGiB = 1e-9 })
        expectInvalid("resources.cpu", mentions: "not -1", { $0.resources.cpu = -1 })
        expectInvalid("resources.accelerators", mentions: "0 or more", { $0.resources.accelerators = -3 })
        expectInvalid("resources", mentions: "asks for nothing", { $0.resources = ResourceRequest(cpu: 0, memoryGiB: 0) })
    }

    @Test func sizesNoPoolHoldsAreUnschedulableWithTheSizeTheyExceed() {
        for edit: (inout JobSpec) -> Void in [{ $0.resources.cpu = 1e12 }, { $0.resources.cpu = 1e300 },
                                               { $0.resources.memoryGiB = 1e18 },
                                               { $0.resources.accelerators = 1 << 40 }, { $0.replicas = 100_000; $0.resources.cpu = 1e9 }] {
            guard case .unschedulable(let reason)? = refusal(edit) else {
                Issue.record("expected Unschedulable, got \(String(describing: refusal(edit)))")
                continue
            }
            #expect(reason.contains("asks for") && reason.contains("the largest such pool"), "reason: \(reason)")
        }
    }

    @Test func timesOutsideTheWindowAreRefused() {
        let year1 = Instant(rfc3339: "0001-01-01T00:00:00Z")!
        expectInvalid("deadline", mentions: "from 2000-01-01T00:00:00Z", { $0.deadline = year1 })
        expectInvalid("notBefore", mentions: "2200-01-01T00:00:00Z", { $0.notBefore = Instant(rfc3339: "9999-01-01T00:00:00Z")! })
        expectInvalid("notAfter", mentions: "2200-01-01T00:00:00Z", { $0.notAfter = .never })
    }

    @Test func countsAndSizesStateTheirLimit() {
        expectInvalid("priority", mentions: "between -1000000 and 1000000", { $0.priority = Int.max })
        expectInvalid("replicas", mentions: "between 1 and 100000", { $0.replicas = 0 })
        expectInvalid("maxRetries", mentions: "between 0 and 1000", { $0.maxRetries = 1001 })
        expectInvalid("maxLatencyMs", mentions: "between 1 and 60000", { $0.maxLatencyMs = 1e9 })
        expectInvalid("name", mentions: "at most 256 bytes", { $0.name = String(repeating: "x", count: 257) })
        expectInvalid("tenant", mentions: "at most 64 bytes", { $0.tenant = String(repeating: "t", count: 65) })
        expectInvalid("tenant", mentions: "must not contain a NUL byte", { $0.tenant = "t\0" })
        expectInvalid("labels", mentions: "at most 64 entries", { s in
            s.labels = Dictionary(uniqueKeysWithValues: (0..<65).map { ("k\($0)", "v") })
        })
        expectInvalid("labels.k", mentions: "at most 4096 bytes", { $0.labels = ["k": String(repeating: "v", count: 4097)] })
        expectInvalid("labels", mentions: "16384 bytes", { s in
            s.labels = Dictionary(uniqueKeysWithValues: (0..<5).map { ("k\($0)", String(repeating: "v", count: 4000)) })
        })
        expectInvalid("dependsOn", mentions: "at most 1000 entries", { $0.dependsOn = (1...1001).map { JobID($0) } })
    }

    func expectAccepted(_ edit: (inout JobSpec) -> Void, sourceLocation: SourceLocation = #_sourceLocation) {
        let error = refusal(edit)
        #expect(error == nil, "refused: \(String(describing: error))", sourceLocation: sourceLocation)
    }

    static let arg4096 = String(repeating: "a", count: 4096)

    @Test func commandBoundsAcceptTheBoundAndRefuseOnePast() {
        expectAccepted { $0.command = ["/bin/true"] }
        expectAccepted { $0.command = ["/bin/echo"] + Array(repeating: "", count: 1023) }
        expectInvalid("command", mentions: "at most 1024 arguments, not 1025", {
            $0.command = ["/bin/echo"] + Array(repeating: "", count: 1024)
        })
        expectAccepted { $0.command = ["/bin/echo", Self.arg4096] }
        expectInvalid("command[1]", mentions: "at most 4096 bytes, not 4097", { $0.command = ["/bin/echo", Self.arg4096 + "a"] })
        // 16 arguments of 4096 bytes: 65,536 together.
        expectAccepted { $0.command = Array(repeating: Self.arg4096, count: 16) }
        expectInvalid("command", mentions: "at most 65536 bytes of arguments together, not 65537", {
            $0.command = Array(repeating: Self.arg4096, count: 16) + ["a"]
        })
        expectInvalid("command[0]", mentions: "the program must not be empty", { $0.command = ["", "x"] })
        expectInvalid("command[3]", mentions: "must not contain a NUL byte (exec cannot carry one)", {
            $0.command = ["/bin/sh", "-c", "echo", "a\0b"]
        })
        expectInvalid("command[0]", mentions: "NUL byte", { $0.command = ["/bin/\0sh"] })
    }

    @Test func environmentBoundsAcceptTheBoundAndRefuseOnePast() {
        func env(_ entries: [String: String]) -> (inout JobSpec) -> Void {
            { $0.command = ["/bin/true"]; $0.environment = entries }
        }
        expectAccepted(env(["PATH": "/usr/bin", "EMPTY": ""]))
        expectAccepted(env(Dictionary(uniqueKeysWithValues: (0..<256).map { ("K\($0)", "v") })))
        expectInvalid("environment", mentions: "at most 256 entries, not 257",
                      env(Dictionary(uniqueKeysWithValues: (0..<257).map { ("K\($0)", "v") })))
        // Keys and values: 1 + 32767 + 1 + 32767 = 65,536 bytes.
        let half = String(repeating: "v", count: 32_767)
        expectAccepted(env(["A": half, "B": half]))
        expectInvalid("environment", mentions: "at most 65536 bytes of keys and values together, not 65537",
                      env(["A": half, "B": half + "v"]))
        expectInvalid("environment", mentions: "a key must not be empty", env(["": "v"]))
        expectInvalid("environment.A=B", mentions: "must not contain '='", env(["A=B": "v"]))
        expectInvalid("environment", mentions: "a key must not contain a NUL byte (exec cannot carry one)", env(["A\0B": "v"]))
        expectInvalid("environment.KEY", mentions: "must not contain a NUL byte (exec cannot carry one)", env(["KEY": "a\0b"]))
    }

    @Test func workingDirectoryBoundsAcceptTheBoundAndRefuseOnePast() {
        func dir(_ path: String) -> (inout JobSpec) -> Void {
            { $0.command = ["/bin/true"]; $0.workingDirectory = path }
        }
        expectAccepted(dir("/"))
        expectAccepted(dir("/srv/jobs/贵安"))
        expectAccepted(dir("/" + String(repeating: "d", count: 4094)))
        expectInvalid("workingDirectory", mentions: "at most 4095 bytes, not 4096", dir("/" + String(repeating: "d", count: 4095)))
        expectInvalid("workingDirectory", mentions: "must be an absolute path", dir("srv/jobs"))
        expectInvalid("workingDirectory", mentions: "must be an absolute path", dir(""))
        expectInvalid("workingDirectory", mentions: "must not contain a NUL byte (exec cannot carry one)", dir("/srv/a\0b"))
    }

    @Test func anEnvironmentOrDirectoryWithoutACommandIsRefused() {
        expectInvalid("environment", mentions: "is only for a job with a command", { $0.environment = ["A": "b"] })
        expectInvalid("workingDirectory", mentions: "is only for a job with a command", { $0.workingDirectory = "/srv" })
    }

    @Test func theConfiguredMaximumDurationApplies() {
        var t = Self.hub
        t.settings.maxDurationSeconds = 600
        let state = SchedulerState(topology: t)
        var spec = JobBuilder.job().spec
        spec.durationSeconds = 601
        #expect(throws: SchedulerError.self) { try state.check(spec) }
        spec.durationSeconds = 600
        #expect(throws: Never.self) { try state.check(spec) }
    }
}
