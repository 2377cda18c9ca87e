import KarstCore
import TOMLKit

/// `KEY=VALUE` overrides of a hub's configuration (karst-sim's what-if keys), read by the
/// configuration file's own reader: a key is spelt as in the TOML, and a value out of the key's
/// range is refused with a `ConfigError` at the key's path stating the bound, as `karstd
/// --check-config` would.
///
/// - `settings.<key>`, `scoring.<key>`: any key of the `[settings]` or `[scoring]` table.
/// - `class.<id>.aging_per_hour`, `tenant.<id>.weight`, `datacenter.<id>.pue`: that key of one
///   `[[classes]]`, `[[tenants]]` or `[[datacenters]]` entry; an unlisted tenant is added with
///   the `[tenant_defaults]`.
///
/// A value is read as a TOML scalar: `true` or `false`, an integer, a float, else a string.
public enum ConfigOverrides {
    /// The first component of every key read here.
    public static let sections: Set<String> = ["settings", "scoring", "class", "tenant", "datacenter"]

    /// Keys karst-sim once accepted under other names, with the configuration's name for each.
    public static let renamed = [
        "settings.grid_intensity": "settings.grid_intensity_kg_per_kwh",
        "settings.deadline_slack": "settings.deadline_slack_seconds",
    ]

    /// `topology` with `key` set to `value`; throws every issue found, each at its key path.
    public static func apply(_ key: String, _ value: String, to topology: Topology) throws(ConfigError) -> Topology {
        if let name = renamed[key] {
            throw ConfigError(source: "\(key)=\(value)",
                              issues: [ConfigIssue(path: key, message: "unknown key; did you mean \(name)?")])
        }
        let sink = IssueSink()
        var t = topology
        var classes = t.classes
        let path = key.split(separator: ".", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
        let scalar = Self.scalar(value)
        func section() -> TableReader {
            TableReader(TOMLTable([path[0]: TOMLTable([path[1]: scalar])]), path: "", sink: sink)
        }
        func entry() -> TableReader {
            TableReader(TOMLTable([path[2]: scalar]), path: "\(path[0]).\(path[1])", sink: sink)
        }
        switch (path[0], path.count) {
        case ("settings", 2):
            var root = section()
            t.settings = TopologyReader(sink: sink).readSettings(&root, base: t.settings)
        case ("scoring", 2):
            var root = section()
            t.scoring = TopologyReader(sink: sink).readScoring(&root, base: t.scoring)
        case ("class", 3):
            guard let c = classes.firstIndex(where: { $0.id == path[1] }) else {
                sink.add("class.\(path[1])", "unknown class")
                break
            }
            var r = entry()
            if let v = r.number("aging_per_hour", in: ConfigBounds.agingPerHour) { classes[c].agingPerHour = v }
            r.finish()
        case ("tenant", 3):
            var r = entry()
            if let w = r.number("weight", in: ConfigBounds.tenantWeight) {
                if let i = t.tenants.firstIndex(where: { $0.id == path[1] }) { t.tenants[i].weight = w } else {
                    var p = t.tenantPolicy(for: path[1])
                    p.weight = w
                    t.tenants.append(p)
                }
            }
            r.finish()
        case ("datacenter", 3):
            guard let d = t.datacenterIndex(of: path[1]) else {
                sink.add("datacenter.\(path[1])", "unknown data centre")
                break
            }
            var r = entry()
            if let v = r.number("pue", in: ConfigBounds.pue) { t.datacenters[d].pue = v }
            r.finish()
        default:
            sink.add(key, "unknown key")
        }
        guard sink.issues.isEmpty else { throw ConfigError(source: "\(key)=\(value)", issues: sink.issues) }
        return Topology(regions: t.regions, datacenters: t.datacenters, classes: classes, tenants: t.tenants,
                        tenantDefaults: t.tenantDefaults, scoring: t.scoring, settings: t.settings)
    }

    /// The TOML scalar `text` spells: a boolean, an integer, a float, else the text as a string.
    static func scalar(_ text: String) -> TOMLValueConvertible {
        if text == "true" || text == "false" { return text == "true" }
        if let i = Int(text) { return i }
        if let d = Double(text) { return d }
        return text
    }
}
