import Foundation
import KarstConfig
import KarstCore
import KarstTesting
import Testing

@Suite struct ConfigTests {
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    static let shipped = try! String(contentsOf: repoRoot.appendingPathComponent("Config/karstd.toml"), encoding: .utf8)

    func issues(_ text: String) -> [String] {
        do {
            _ = try KarstConfiguration.parse(text, source: "test")
            return []
        } catch {
            return error.issues.map(\.description)
        }
    }

    @Test func theBuiltInHubIsTheShippedFileAndValid() throws {
        // Byte for byte (String's == would accept a canonically equivalent text): SwiftPM embeds
        // the file through the symlink Sources/KarstConfig/Resources/karstd.toml.
        let file = try Data(contentsOf: Self.repoRoot.appendingPathComponent("Config/karstd.toml"))
        #expect(Array(BuiltinConfig.text.utf8) == Array(file))
        let t = KarstConfiguration.builtIn().topology
        #expect(t.datacenters.map(\.id) == ["ct-guizhou", "cu-guian", "cm-guizhou", "hw-guian", "tc-qixing", "gcbd-icloud"])
        #expect(t.regions.map(\.id) == ["bth", "yrd", "gba", "cc", "local"])
        #expect(t.classes.map(\.id) == ["critical", "online", "batch", "best-effort"])
        for dc in t.datacenters {
            #expect(dc.priceByHour.count == 24 && dc.cleanShareByHour.count == 24)
            #expect(dc.rttMs.count == 5)
        }
    }

    @Test func everyFigureInTheShippedFileSaysWhereItComesFrom() {
        // Each data-centre block mentions PUBLISHED or ASSUMED before its pue and its pools.
        let blocks = Self.shipped.components(separatedBy: "[[datacenters]]").dropFirst()
        for block in blocks {
            for key in ["pue =", "[[datacenters.pools]]"] {
                let before = block.components(separatedBy: key).first ?? ""
                #expect(before.contains("PUBLISHED") || before.contains("ASSUMED"), "no source before \(key)")
            }
        }
    }

    @Test func threeMistakesAreAllReportedWithTheirPaths() {
        var text = Self.shipped
        text = text.replacingOccurrences(of: "cpu = 32000", with: "cpu = 0")  // cu-guian and cm-guizhou
        text = text.replacingOccurrences(of: "pue = 1.25", with: "pue = 1.25\ncolour = \"red\"")
        text = text.replacingOccurrences(of: "rtt_ms = { bth = 20, yrd = 15, gba = 10, cc = 6, local = 3 }\n\n# PUBLISHED: 14,000",
                                         with: "rtt_ms = { bth = 20, yrd = 15, gba = 10, local = 3 }\n\n# PUBLISHED: 14,000")
        #expect(issues(text) == [
            "datacenters[0].rtt_ms.cc: missing: every region needs a latency entry",
            "datacenters[1].pools[0].cpu: must be between 0.001 and 1000000000, not 0",
            "datacenters[2].pools[0].cpu: must be between 0.001 and 1000000000, not 0",
            "datacenters[3].colour: unknown key",
        ])
    }

    static let minimal = TestConfigs.toml(datacenters: [("a", 10, 10)])

    @Test func aMinimalConfigIsEnoughAndFlatCurvesExpand() throws {
        let t = try KarstConfiguration.parse(Self.minimal, source: "test").topology
        #expect(t.datacenters[0].priceByHour == Array(repeating: 0.3, count: 24))
        #expect(t.tenantDefaults.weight == 1)
    }

    @Test func theRemoteAgentsListenerIsOffByDefaultAndCheckedWhenSet() throws {
        #expect(KarstConfiguration.builtIn().agents.listen == nil)
        let on = try KarstConfiguration.parse(Self.minimal + """

            [agents]
            listen = "[::]:7443"
            ca = "ca.pem"
            certificate = "d.pem"
            key = "d.key"
            """, source: "test").agents
        #expect(on.host == "::" && on.port == 7443 && on.caFile == "ca.pem")
        #expect(issues(Self.minimal + "\n[agents]\nlisten = \"0.0.0.0:70000\"\n") == [
            "agents.listen: must be HOST:PORT with a port from 1 to 65535 (\"0.0.0.0:7443\", \"[::]:7443\"), not \"0.0.0.0:70000\"",
        ])
        #expect(issues(Self.minimal + "\n[agents]\nlisten = \"0.0.0.0:7443\"\nca = \"ca.pem\"\n") == [
            "agents.certificate: is required with listen (a PEM file): remote agents connect with mutual TLS only",
            "agents.key: is required with listen (a PEM file): remote agents connect with mutual TLS only",
        ])
    }

    @Test func policySettingsAndBorrowLimitsAreReadAndChecked() throws {
        let t = KarstConfiguration.builtIn().topology
        #expect(t.settings.backfillReservations == 8)
        #expect(t.settings.maxPreemptionsPerJob == 3)
        let fintech = t.tenantPolicy(for: "gba-fintech")
        #expect(fintech.quota == Resources(milliCPU: 0, memoryMiB: 0, accelerators: 2048), "a quota guarantees only what it names")
        #expect(fintech.ceiling?.accelerators == 3072)
        #expect(fintech.ceiling!.milliCPU > 1_000_000, "a borrow limit caps only what it names")
        let text = Self.shipped
            .replacingOccurrences(of: "backfill_reservations = 8", with: "backfill_reservations = -1")
            .replacingOccurrences(of: "time_shift_min_saving = 0.1", with: "time_shift_min_saving = 2")
            .replacingOccurrences(of: "id = \"bth-research\"\nweight = 1.0", with: "id = \"bth-research\"\nweight = 1.0\nborrow_limit = { cpu = 1 }")
        #expect(issues(text) == [
            "settings.backfill_reservations: must be between 0 and 1000, not -1",
            "settings.time_shift_min_saving: must be between 0 and 1, not 2",
            "tenants[2].borrow_limit: needs a quota to borrow above",
        ])
    }

    @Test func duplicateIdsAreReportedAtTheSecondOccurrence() {
        let text = Self.minimal + "\n[[datacenters.pools]]\nid = \"cpu\"\ncpu = 1\nmemory_gib = 1\n"
            + "\n[[regions]]\nid = \"local\"\n"
        #expect(issues(text) == [
            "regions[1].id: duplicate id 'local' (first at regions[0].id)",
            "datacenters[0].pools[1].id: duplicate id 'cpu' (first at datacenters[0].pools[0].id)",
        ])
    }

    @Test func typeMismatchesNameTheExpectedType() {
        let text = Self.minimal.replacingOccurrences(of: "pue = 1.2", with: "pue = \"low\"")
            .replacingOccurrences(of: "base_priority = 1", with: "base_priority = 1.5")
        #expect(issues(text) == [
            "classes[0].base_priority: expected an integer, found floating-point number",
            "datacenters[0].pue: expected a number, found string",
        ])
    }

    @Test func absurdNumbersAreRefusedStatingTheRange() {
        let text = Self.minimal.replacingOccurrences(of: "rtt_ms = { local = 1 }", with: "rtt_ms = { local = inf }")
            .replacingOccurrences(of: "default_latency_ms = 10", with: "default_latency_ms = nan")
            + "\n[settings]\ndefault_duration_seconds = 1e300\nmax_duration_seconds = 1e18\n"
            + "[server]\nidle_timeout_seconds = inf\n[state]\nretention_days = -1\n"
        #expect(issues(text) == [
            "settings.max_duration_seconds: must be between 60 and 315360000, not 1e+18",
            "settings.default_duration_seconds: must be between 1 and 315360000, not 1e+300",
            "classes[0].default_latency_ms: must be between 1 and 60000, not nan",
            "datacenters[0].rtt_ms.local: must be between 0 and 10000, not inf",
            "server.idle_timeout_seconds: must be between 0.01 and 604800, not inf",
            "state.retention_days: must be between 0.001 and 36500, not -1",
        ])
        let huge = Self.minimal.replacingOccurrences(of: "cpu = 10", with: "cpu = 1e300")
        #expect(issues(huge) == ["datacenters[0].pools[0].cpu: must be between 0.001 and 1000000000, not 1e+300"])
    }

    @Test func rangesAndCrossReferencesAreChecked() {
        let text = Self.minimal.replacingOccurrences(of: "pue = 1.2", with: "pue = 0.9")
            .replacingOccurrences(of: "rtt_ms = { local = 1 }", with: "rtt_ms = { local = 1, mars = 300 }")
            .replacingOccurrences(of: "clean_share = 0.5", with: "clean_share = [0.5, 0.5]")
            + "\naccelerator_model = \"h20\"\n[scoring]\npacking_mode = \"tight\"\n"
        #expect(issues(text) == [
            "scoring.packing_mode: must be \"binpack\" or \"spread\", not \"tight\"",
            "datacenters[0].pue: must be between 1 and 5, not 0.9",
            "datacenters[0].clean_share: must be one number or 24 hourly numbers, found 2",
            "datacenters[0].rtt_ms.mars: is not a declared region",
            "datacenters[0].pools[0].accelerators: must be greater than 0 when accelerator_model is set",
        ])
    }

    @Test func syntaxErrorsSayWhere() {
        let found = issues("[[regions]\nid = 1")
        #expect(found.count == 1)
        #expect(found.first?.contains("line 1") == true)
    }

    @Test func missingFileIsAClearError() {
        #expect(throws: ConfigError.self) { try KarstConfiguration.load(path: "/nonexistent/karstd.toml") }
    }
    @Test func thePostgresStateBackendIsReadAndChecked() throws {
        let c = try KarstConfiguration.parse(Self.minimal + """

            [state]
            backend = "postgres"
            [state.postgres]
            host = "db.hub.internal"
            port = 6432
            user = "karstd"
            password_credential = "karst-db"
            replica = "gui-an-1"
            address = "unix:/run/karst/karstd.sock"
            lease_seconds = 12
            renew_seconds = 3
            """, source: "test")
        #expect(c.state.backend == .postgres)
        let p = try #require(c.state.postgres)
        #expect(p.host == "db.hub.internal" && p.port == 6432 && p.user == "karstd" && p.database == "karst")
        #expect(p.passwordCredential == "karst-db" && p.passwordFile == nil && p.replica == "gui-an-1")
        #expect(p.leaseSeconds == 12 && p.renewSeconds == 3)
        // The backend alone: every default.
        let d = try KarstConfiguration.parse(Self.minimal + "\n[state]\nbackend = \"postgres\"\n", source: "test")
        #expect(d.state.postgres == PostgresSettings())
        #expect(try KarstConfiguration.parse(Self.minimal, source: "test").state.backend == .sqlite)

        #expect(issues(Self.minimal + """

            [state]
            backend = "etcd"
            [state.postgres]
            port = 70000
            password_file = "/etc/karst/pw"
            password_credential = "pw"
            replica = "two words"
            lease_seconds = 4
            renew_seconds = 3
            """) == [
            "state.backend: must be \"sqlite\" or \"postgres\", not \"etcd\"",
            "state.postgres.port: must be between 1 and 65535, not 70000",
            "state.postgres.password_credential: give password_file or password_credential, not both",
            "state.postgres.replica: must be 1 to 64 characters without spaces",
            "state.postgres.renew_seconds: must be at most half of lease_seconds (4), not 3",
        ])
    }

}

/// `executor` per data centre.
@Suite struct ExecutorConfigTests {
    @Test func theExecutorIsReadAndDefaultsToTheModel() throws {
        var text = TestConfigs.toml(datacenters: [("a", 8, 16), ("b", 8, 16)])
        text = text.replacingOccurrences(of: "id = \"b\"\n", with: "id = \"b\"\nexecutor = \"agents\"\n")
        let t = try KarstConfiguration.parse(text, source: "test").topology
        #expect(t.datacenters.map(\.executor) == [.model, .agents])
    }

    /// With replicas, the agents' fence must outlast a takeover, or a failover fences every run.
    @Test func withReplicasTheAgentFenceMustOutlastATakeover() throws {
        var text = TestConfigs.toml(datacenters: [("a", 8, 16)])
        text = text.replacingOccurrences(of: "id = \"a\"\n", with: "id = \"a\"\nexecutor = \"agents\"\n")
        let replicas = "\n[state]\nbackend = \"postgres\"\n"
        #expect(ConfigTests().issues(text + replicas) == [
            "settings.agent_fence_seconds: with replicas ([state] backend = \"postgres\") must be at least lease_seconds + "
                + "renew_seconds + 10 s (22 s), not 10: else agents kill their runs before a standby has taken over "
                + "(raise agent_lost_seconds with it)",
        ])
        let raised = "[settings]\nagent_fence_seconds = 22\nagent_lost_seconds = 25\n" + text + replicas
        #expect(try KarstConfiguration.parse(raised, source: "test").topology.settings.agentTimeouts.fence == 22)
        // A shorter lease needs a shorter fence (2 + 0.5 + 10); no agents, no constraint; SQLite, none either.
        let short = replicas + "[state.postgres]\nlease_seconds = 2\nrenew_seconds = 0.5\n"
        #expect(try KarstConfiguration.parse("[settings]\nagent_fence_seconds = 12.5\nagent_lost_seconds = 15\n" + text + short,
                                             source: "test").state.backend == .postgres)
        #expect(ConfigTests().issues("[settings]\nagent_fence_seconds = 12\nagent_lost_seconds = 15\n" + text + short).count == 1)
        #expect(try KarstConfiguration.parse(TestConfigs.toml(datacenters: [("a", 8, 16)]) + replicas, source: "test")
            .state.backend == .postgres)
        #expect(try KarstConfiguration.parse(text, source: "test").state.backend == .sqlite)
    }

    @Test func agentTimeoutsAreReadAndTheirOrderChecked() throws {
        let base = TestConfigs.toml(datacenters: [("a", 8, 16)])
        let ok = try KarstConfiguration.parse("[settings]\nagent_suspect_seconds = 4\nagent_lost_seconds = 20\n" + base,
                                              source: "test")
        #expect(ok.topology.settings.agentTimeouts == AgentTimeouts(reportInterval: 1, suspect: 4, fence: 10, lost: 20))
        do {
            _ = try KarstConfiguration.parse("[settings]\nagent_fence_seconds = 14\n" + base, source: "test")
            Issue.record("accepted a fence that leaves no margin before the loss")
        } catch {
            #expect(error.description.contains("settings.agent_lost_seconds"))
            #expect(error.description.contains("must be at least fence (14 s) plus two report intervals (2 s)"))
        }
    }

    @Test func anUnknownExecutorIsNamedWithItsPath() {
        let text = TestConfigs.toml(datacenters: [("a", 8, 16)])
            .replacingOccurrences(of: "id = \"a\"\n", with: "id = \"a\"\nexecutor = \"slurm\"\n")
        do {
            _ = try KarstConfiguration.parse(text, source: "test")
            Issue.record("accepted executor = slurm")
        } catch {
            #expect(error.description.contains("datacenters[0].executor"))
            #expect(error.description.contains("must be \"model\" or \"agents\", not \"slurm\""))
        }
    }

}
