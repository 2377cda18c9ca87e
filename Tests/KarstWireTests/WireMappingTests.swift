import KarstCore
import KarstProtocol
import KarstWire
import Testing

/// The one wire↔core mapping: a spec with every field set survives the trip both ways, and
/// every field of the IDL's JobSpec is carried.
@Suite struct WireMappingTests {
    static let full = JobSpec(
        name: "train", tenant: "t1", origin: "gba", priorityClass: "online", priority: 3,
        resources: ResourceRequest(cpu: 0.5, memoryGiB: 2.25, accelerators: 4, acceleratorModel: "ascend-910b"),
        replicas: 2, durationSeconds: 90.5, maxLatencyMs: 30, datacenters: ["a", "b"], preemptible: false,
        deadline: Instant(microseconds: 1_782_864_000_123_456), notBefore: Instant(microseconds: 1_782_860_000_000_000),
        notAfter: Instant(microseconds: 1_782_862_000_000_001), dependsOn: [JobID(1), JobID(42)], maxRetries: 2,
        labels: ["k": "v", "team": "x"], command: ["/bin/sh", "-c", "echo \"$GREETING\" '贵安'", ""],
        environment: ["GREETING": "hi there", "EMPTY": ""], workingDirectory: "/srv/jobs/train")

    @Test func aFullSpecRoundTrips() throws {
        let wire = WireMapping.spec(Self.full)
        #expect(try WireMapping.spec(wire, path: "job") == Self.full)
        // Through JSON as well, as the store and the socket carry it.
        let read = try WireJobSpec(wire: try JSONParser.parse(wire.encoded), path: .root, strict: true)
        #expect(try WireMapping.spec(read, path: "job") == Self.full)
    }

    @Test func everyIDLFieldIsCarried() throws {
        let idl = try VarlinkInterface(parsing: EmbeddedInterfaces.descriptions["io.karst.Scheduler"]!)
        guard case .structure(let fields)? = idl.types["JobSpec"], case .structure(let res)? = idl.types["Resources"] else {
            Issue.record("the IDL has no JobSpec or Resources")
            return
        }
        let wire = WireMapping.spec(Self.full)
        #expect(wire.jsonObject.keys == fields.map(\.name))
        #expect(wire.resources.jsonObject.keys == res.map(\.name))
    }

    @Test func defaultsAreLeftOutAndMalformedTimesNamed() throws {
        let plain = JobSpec(origin: "bth", priorityClass: "batch", resources: ResourceRequest(cpu: 1, memoryGiB: 1))
        #expect(WireMapping.spec(plain).jsonObject.keys == ["origin", "priorityClass", "resources"])
        var bad = WireMapping.spec(plain)
        // An empty command or environment on the wire is no command, no environment: absent again.
        var empty = WireMapping.spec(plain)
        empty.command = []
        empty.environment = [:]
        let read = try WireMapping.spec(empty, path: "job")
        #expect(read == plain && !read.runsCommand)
        #expect(WireMapping.spec(read).jsonObject.keys == ["origin", "priorityClass", "resources"])
        bad.deadline = "tomorrow"
        #expect(throws: VarlinkError.invalidParameter("jobs[2].deadline")) { try WireMapping.spec(bad, path: "jobs[2]") }
        bad.deadline = nil
        bad.dependsOn = ["job-1", "nonsense"]
        #expect(throws: VarlinkError.invalidParameter("job.dependsOn[1]")) { try WireMapping.spec(bad, path: "job") }
    }
}
