import KarstConfig
import KarstCore
import KarstSim
import Testing

/// What-if overrides of configuration keys: spelt as in the TOML, range-checked as the
/// configuration file is, and an old karst-sim name refused with the right one.
@Suite struct WhatIfTests {
    static let builtIn = KarstConfiguration.builtIn()

    /// The `KEY = VALUE` lines of the built-in configuration's `[settings]` table.
    static var settingsLines: [(key: String, value: String)] {
        var out: [(key: String, value: String)] = []
        var inSettings = false
        for line in BuiltinConfig.text.split(separator: "\n") where !line.hasPrefix("#") {
            if line.hasPrefix("[") { inSettings = line == "[settings]"; continue }
            let parts = line.split(separator: "=", maxSplits: 1)
            guard inSettings, parts.count == 2 else { continue }
            out.append((String(parts[0].filter { $0 != " " }), String(parts[1].filter { $0 != " " })))
        }
        return out
    }

    /// The message a refused override gives.
    static func refusal(_ override: String) -> String? {
        var s = Scenario(label: "x", topology: builtIn.topology)
        do { try s.apply(override) } catch { return error.description }
        return nil
    }

    @Test func everySettingsKeyOfTheTOMLIsAnOverride() throws {
        let lines = Self.settingsLines
        #expect(lines.count >= 11)
        var s = Scenario(label: "x", topology: Self.builtIn.topology)
        for (key, value) in lines { try s.apply("settings.\(key)=\(value)") }
        #expect(s.topology.settings == Self.builtIn.topology.settings)
        #expect(s.overrides.count == lines.count)
    }

    @Test func tomlNamesChangeTheTopology() throws {
        var s = Scenario(label: "x", topology: Self.builtIn.topology)
        try s.apply("settings.grid_intensity_kg_per_kwh=0.5")
        try s.apply("settings.deadline_slack_seconds=1800")
        try s.apply("settings.max_preemptions_per_job=5")
        try s.apply("scoring.packing_mode=spread")
        try s.apply("scoring.carbon=2.5")
        try s.apply("class.batch.aging_per_hour=20")
        try s.apply("datacenter.tc-qixing.pue=1.1")
        try s.apply("tenant.gba-fintech.weight=3")
        let t = s.topology
        #expect(t.settings.gridIntensityKgPerKWh == 0.5)
        #expect(t.settings.deadlineSlackSeconds == 1800)
        #expect(t.settings.maxPreemptionsPerJob == 5)
        #expect(t.scoring.packingMode == .spread && t.scoring.carbon == 2.5)
        #expect(t.classes[t.classIndex(of: "batch")!].agingPerHour == 20)
        #expect(t.datacenters[t.datacenterIndex(of: "tc-qixing")!].pue == 1.1)
        #expect(t.tenantPolicy(for: "gba-fintech").weight == 3)
        #expect(t.tenantPolicy(for: "gba-fintech").quota == Self.builtIn.topology.tenantPolicy(for: "gba-fintech").quota)
        // Untouched keys keep the configuration's values.
        #expect(t.settings.backfillReservations == Self.builtIn.topology.settings.backfillReservations)
        #expect(t.scoring.energy == Self.builtIn.topology.scoring.energy)
    }

    @Test func outOfRangeValuesAreRefusedWithTheBound() throws {
        let cases = [
            ("settings.grid_intensity_kg_per_kwh=11", "settings.grid_intensity_kg_per_kwh: must be between 0 and 10, not 11"),
            ("settings.max_preemptions_per_job=1001", "settings.max_preemptions_per_job: must be between 0 and 1000, not 1001"),
            ("settings.time_shift_min_saving=nan", "settings.time_shift_min_saving: must be between 0 and 1, not nan"),
            ("settings.utc_offset_hours=15", "settings.utc_offset_hours: must be between -12 and 14, not 15"),
            ("scoring.energy=-1", "scoring.energy: must be between 0 and 1000, not -1"),
            ("class.batch.aging_per_hour=2000000", "class.batch.aging_per_hour: must be between 0 and 1000000, not 2000000"),
            ("tenant.newcomer.weight=0", "tenant.newcomer.weight: must be between 0.001 and 1000000, not 0"),
            ("datacenter.tc-qixing.pue=0.9", "datacenter.tc-qixing.pue: must be between 1 and 5, not 0.9"),
        ]
        for (override, message) in cases {
            let refused = try #require(Self.refusal(override), "\(override)")
            #expect(refused.contains(message), "\(override): \(refused)")
        }
        #expect(Self.refusal("settings.max_consecutive_misses=1.5")?.contains("expected an integer") == true)
        #expect(Self.refusal("scoring.packing_mode=diagonal")?.contains("\"binpack\" or \"spread\"") == true)
        #expect(Self.refusal("datacenter.tc-qixing.capacity_scale=1e30")?.contains("capacity_scale: must be between 0 and 1000, not 1e+30") == true)
    }

    @Test func theConfigurationReaderGivesTheKeyAndBound() {
        let e = #expect(throws: ConfigError.self) {
            try ConfigOverrides.apply("settings.deadline_slack_seconds", "-1", to: Self.builtIn.topology)
        }
        #expect(e?.issues == [ConfigIssue(path: "settings.deadline_slack_seconds",
                                          message: "must be between 0 and 315360000, not -1")])
    }

    @Test func oldNamesAreRefusedNamingTheNewOne() {
        for (old, new) in ConfigOverrides.renamed {
            let refused = Self.refusal("\(old)=1")
            #expect(refused?.contains("\(old): unknown key; did you mean \(new)?") == true, "\(refused ?? "accepted")")
        }
        #expect(Self.refusal("settings.grid_intensity=0.5")?.contains("settings.grid_intensity_kg_per_kwh") == true)
        #expect(Self.refusal("settings.colour=1")?.contains("settings.colour: unknown key") == true)
        #expect(Self.refusal("class.batch.base_priority=1")?.contains("class.batch.base_priority: unknown key") == true)
        #expect(Self.refusal("class.nope.aging_per_hour=1")?.contains("class.nope: unknown class") == true)
    }

    @Test func aRefusedOverrideChangesNothing() {
        var s = Scenario(label: "x", topology: Self.builtIn.topology)
        #expect(throws: SimError.self) { try s.apply("settings.backfill_reservations=-3") }
        #expect(s.overrides.isEmpty)
        #expect(s.topology.settings == Self.builtIn.topology.settings)
    }
}
