import KarstCore
import KarstJSON

/// One replay, or two compared, as JSON: `{"trace":…, "runs":[{…}, …]}`. Seconds for waits, 0…1
/// for shares, kWh / CNY / kg for energy, cost and carbon; hourly series start at `hours[0]`.
public struct JSONReport: Sendable {
    public let runs: [ReplaySummary]
    public let trace: String

    public init(_ runs: [ReplaySummary], trace: String) {
        self.runs = runs
        self.trace = trace
    }

    public var text: String { String(decoding: value.encoded, as: UTF8.self) + "\n" }

    public var value: JSONValue {
        .object(["trace": .string(trace), "runs": .array(runs.map(Self.run))])
    }

    static func run(_ r: ReplaySummary) -> JSONValue {
        .object([
            "label": .string(r.label),
            "overrides": .array(r.overrides.map(JSONValue.string)),
            "siteEvents": .array(r.siteEvents.map { .string($0.description) }),
            "start": .string(r.start.rfc3339), "end": .string(r.end.rfc3339),
            "jobs": num(r.jobs), "rejected": num(r.rejected),
            "rejectedExamples": .array(r.rejectedExamples.map(JSONValue.string)),
            "passes": num(r.passes), "coreEvents": num(r.coreEvents),
            "states": .object(["succeeded": num(r.succeeded), "failed": num(r.failed), "cancelled": num(r.cancelled),
                               "waiting": num(r.waiting), "running": num(r.running)]),
            "preemptions": num(r.preemptions), "retries": num(r.retries), "outageRequeues": num(r.outageRequeues),
            "energyKWh": num(r.energyKWh, 3), "costCNY": num(r.costCNY, 3), "carbonKg": num(r.carbonKg, 3),
            "fairnessJain": opt(r.fairness, 6),
            "overall": group(r.overall),
            "classes": .array(r.classes.map(group)),
            "origins": .array(r.origins.map(group)),
            "sites": .array(r.sites.map(site)),
            "tenants": .array(r.tenants.map { t in
                .object(["id": .string(t.id), "weight": num(t.weight, 6), "jobs": num(t.jobs),
                         "meanDominantShare": num(t.meanDominantShare, 6)])
            }),
            "hours": .array(r.hours.map { .string($0.rfc3339) }),
            "queueDepth": .object(JSONObject(zip(r.classes, r.queueDepth).map { ($0.id, series($1, 3)) })),
        ])
    }

    static func group(_ g: GroupStats) -> JSONValue {
        .object([
            "id": .string(g.id), "submitted": num(g.submitted), "started": num(g.started),
            "waitP50": opt(g.waitP50, 3), "waitP95": opt(g.waitP95, 3), "waitP99": opt(g.waitP99, 3),
            "withinPromise": opt(g.withinPromise, 6), "deadlineJobs": num(g.deadlineJobs),
            "deadlineMet": opt(g.deadlineMet, 6), "waitQuantiles": series(g.waitQuantiles, 3),
        ])
    }

    static func site(_ s: SiteStats) -> JSONValue {
        .object([
            "id": .string(s.id), "jobsStarted": num(s.jobsStarted), "energyKWh": num(s.energyKWh, 3),
            "costCNY": num(s.costCNY, 3), "carbonKg": num(s.carbonKg, 3),
            "pools": .array(s.pools.map { p in
                .object(["id": .string(p.id), "meanUtilisation": num(p.meanUtilisation, 6),
                         "peakUtilisation": num(p.peakUtilisation, 6), "hourlyUtilisation": series(p.hourlyUtilisation, 4)])
            }),
            "hourlyEnergyKWh": series(s.hourlyEnergyKWh, 3), "hourlyCostCNY": series(s.hourlyCostCNY, 3),
            "hourlyCarbonKg": series(s.hourlyCarbonKg, 3), "hourlyPrice": series(s.hourlyPrice, 4),
        ])
    }

    static func num(_ v: Int) -> JSONValue { .number(Double(v)) }
    static func num(_ v: Double, _ decimals: Int) -> JSONValue { .number(Format.rounded(v, decimals)) }
    static func opt(_ v: Double?, _ decimals: Int) -> JSONValue { v.map { num($0, decimals) } ?? .null }
    static func series(_ v: [Double], _ decimals: Int) -> JSONValue { .array(v.map { num($0, decimals) }) }
}
