import Foundation
import KarstConfig
import KarstCore
import KarstSim
import KarstTrace
import Testing

/// The shipped sample traces (Config/traces) are what the generator writes, and replay cleanly.
@Suite struct SampleTraceTests {
    static let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Config/traces")

    /// `karst-sim generate --hours 24 --seed 1 --load 0.05`.
    static var generated: [TraceJob] {
        var g = WorkloadGenerator()
        for i in g.regions.indices { g.regions[i].jobsPerHour *= 0.05 }
        return g.generate(start: Instant(rfc3339: "2026-07-01T00:00:00+08:00")!, hours: 24, seed: 1)
    }

    static func bytes(_ name: String) throws -> [UInt8] {
        [UInt8](try #require(FileManager.default.contents(atPath: dir.appendingPathComponent(name).path)))
    }

    @Test func theCSVSampleIsTheGeneratorsOutputAndReplays() throws {
        let records = Self.generated.enumerated().map { TraceRecord(job: $1, number: $0 + 1) }
        let shipped = try Self.bytes("sample-day.csv")
        #expect(shipped == Array(ClusterLogWriter().text(records).utf8),
                "Config/traces/sample-day.csv is stale: karst-sim generate --load 0.05 -o Config/traces/sample-day.csv")
        let jobs = try ClusterLogReader().read(shipped).records.map { TraceJob(record: $0, defaults: TraceDefaults()) }
        let s = try Scenario(label: "sample", topology: KarstConfiguration.builtIn().topology).replay(jobs, seed: 1)
        #expect(s.jobs == jobs.count && s.rejected == 0 && s.waiting == 0)
        #expect(s.classes.map(\.submitted).allSatisfy { $0 > 0 } && s.origins.map(\.submitted).allSatisfy { $0 > 0 })
    }

    @Test func theSWFSampleHoldsTheSameJobs() throws {
        let r = try SWFReader(start: Instant(microseconds: 0)).read(try Self.bytes("sample-day.swf"))
        #expect(r.skipped.isEmpty)
        let g = Self.generated
        #expect(r.records.count == g.count)
        #expect(zip(r.records, g).allSatisfy { $0.submitTime == $1.submitAt && $0.origin == $1.spec.origin })
    }
}
