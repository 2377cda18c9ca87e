import KarstCore
import KarstSim
import KarstTrace
import Testing

/// The cluster-log CSV and SWF readers: well-formed input, malformed lines, edge cases.
@Suite struct TraceReaderTests {
    static let header = ClusterLogColumn.header
    let time = TraceTime()

    func csv(_ text: String, policy: BadLinePolicy = .stop) throws -> TraceReadResult {
        try ClusterLogReader(policy: policy).read(Array(text.utf8))
    }

    @Test func aFullLineReadsEveryColumn() throws {
        let r = try csv(Self.header + "\n"
            + "7,u1,vc-a,16,192,2,FAILED,2026-07-01 10:00:00,2026-07-01 10:05:00,2026-07-01 11:05:00,3600,300,"
            + "gba,online,3,1536,ascend-910b,15,28800,2,1\n").records
        #expect(r.count == 1)
        let x = r[0]
        #expect(x.jobID == "7" && x.user == "u1" && x.tenant == "vc-a")
        #expect(x.accelerators == 16 && x.cpus == 192 && x.nodes == 2 && x.outcome == .failed)
        #expect(x.submitTime == Instant(rfc3339: "2026-07-01T02:00:00Z"))  // local UTC+8
        #expect(x.startTime == Instant(rfc3339: "2026-07-01T10:05:00+08:00"))
        #expect(x.durationSeconds == 3600 && x.queueSeconds == 300)
        #expect(x.origin == "gba" && x.priorityClass == "online" && x.priority == 3 && x.memoryGiB == 1536)
        #expect(x.acceleratorModel == "ascend-910b" && x.maxLatencyMs == 15 && x.flexWindowSeconds == 28800)
        #expect(x.maxRetries == 2 && x.failedRuns == 1)
    }

    @Test func theHeliosColumnsAloneAreEnoughAndOrderDoesNotMatter() throws {
        // Helios's own twelve columns, shuffled, plus a column Karst does not know.
        let text = "state,job_id,user,vc,jobname,gpu_num,cpu_num,node_num,submit_time,start_time,end_time,duration,queue\n"
            + "COMPLETED,1,ua,vcx,train,1,6,1,2020-06-09 18:41:01,2020-06-09 18:41:01,2020-06-10 04:55:09,36848,0\n"
            + "cancelled,2,ub,vcy,eval,0,4,1,2020-06-09 18:41:28,2020-06-09 18:41:30,2020-06-09 19:41:30,,\n"
        let r = try csv(text).records
        #expect(r.map(\.jobID) == ["1", "2"])
        #expect(r[0].outcome == .completed && r[0].accelerators == 1 && r[0].cpus == 6 && r[0].origin == nil)
        #expect(r[1].outcome == .cancelled && r[1].durationSeconds == 3600)  // from start and end
        let job = TraceJob(record: r[0], defaults: TraceDefaults(origin: "yrd", priorityClass: "batch", memoryGiBPerCore: 2))
        #expect(job.spec.origin == "yrd" && job.spec.priorityClass == "batch" && job.spec.tenant == "vcx")
        #expect(job.spec.resources.memoryGiB == 12 && job.spec.resources.accelerators == 1)
        #expect(job.spec.durationSeconds == 36848)
    }

    @Test func quotedFieldsCRLFBlankLinesAndNoFinalNewline() throws {
        let text = Self.header + "\r\n\r\n"
            + "\"a,\"\"b\"\"\",u,vc,0,1,1,,2026-07-01 00:00:00,,,60,,local,batch,,,,,,,\r\n"
            + "# a comment\n"
            + "b,u,vc,0,2,1,,1782864000,,,30,,local,batch,,,,,,,"
        let r = try csv(text).records
        #expect(r.map(\.jobID) == ["a,\"b\"", "b"])
        #expect(r[1].submitTime == Instant(secondsSinceEpoch: 1_782_864_000))
    }

    @Test func aBadLineStopsTheReadWithItsNumber() throws {
        let text = Self.header + "\n"
            + "1,u,vc,0,4,1,COMPLETED,2026-07-01 00:00:00,,,60,,local,batch,,,,,,,\n"
            + "\n"
            + "2,u,vc,0,four,1,COMPLETED,2026-07-01 00:00:00,,,60,,local,batch,,,,,,,\n"
        let error = #expect(throws: TraceLineError.self) { try csv(text) }
        #expect(error?.line == 4)
        #expect(error?.message.contains("cpu_num") == true)
    }

    @Test func skippingGoesOnAndReportsEveryBadLine() throws {
        let good = "1,u,vc,0,4,1,COMPLETED,2026-07-01 00:00:00,,,60,,local,batch,,,,,,,"
        let text = [Self.header, good,
                    "2,u,vc,0,4,1,EXPLODED,2026-07-01 00:00:00,,,60,,local,batch,,,,,,,",  // unknown state
                    "3,u,vc,0,4,1,COMPLETED,yesterday,,,60,,local,batch,,,,,,,",  // bad time
                    "4,u,vc",  // too few fields
                    "5,u,vc,0,4,1,COMPLETED,2026-07-01 00:00:00,,,-5,,local,batch,,,,,,,",  // negative duration
                    "6,u,vc,0,4,1,COMPLETED,2026-07-01 00:00:00,,,60,,local,batch,1.5,,,,,,",  // fractional priority
                    "7,u,vc,0,4,1,COMPLETED,2026-07-01 00:00:00,,,,,local,batch,,,,,,,",  // no duration
                    good].joined(separator: "\n")
        let r = try csv(text, policy: .skip)
        #expect(r.records.count == 2)
        #expect(r.skipped.map(\.line) == [3, 4, 5, 6, 7, 8])
        #expect(r.skipped[0].message.contains("EXPLODED"))
        #expect(r.skipped[2].message.contains("fields"))
    }

    @Test func aHeaderWithoutTheNeededColumnsIsRefused() {
        #expect(throws: TraceLineError.self) { try csv("job_id,user,cpu_num,duration\n1,u,4,60\n") }
        #expect(throws: TraceLineError.self) { try csv("job_id,submit_time,cpu_num\n1,2026-07-01 00:00:00,4\n") }
        #expect(throws: TraceLineError.self) { try csv("") }
        #expect(throws: TraceLineError.self) { try csv("job_id,job_id,submit_time,cpu_num,duration\n") }
    }

    @Test func swfLinesMapToRecords() throws {
        let text = """
            ; Version: 2.2
            ; UnixStartTime: 1782864000
            ; Karst-Queues: 1=online 2=batch
            ; Karst-Partitions: 1=gba
            ; Karst-Groups: 7=gba-fintech
            1 0 5 3600 64 -1 -1 64 7200 1048576 1 3 7 -1 2 1 -1 -1
            2 60 -1 100 8 -1 2097152 -1 -1 -1 0 4 8 -1 1 -1 -1 -1
            3 120 -1 10 -1 -1 -1 2 -1 -1 5 4 8 -1 -1 -1 -1 -1
            """
        let r = try SWFReader(start: Instant(microseconds: 0)).read(Array(text.utf8)).records
        #expect(r.count == 3)
        #expect(r[0].submitTime == Instant(secondsSinceEpoch: 1_782_864_000) && r[0].cpus == 64)
        #expect(r[0].memoryGiB == 64 && r[0].priorityClass == "batch" && r[0].origin == "gba")
        #expect(r[0].tenant == "gba-fintech" && r[0].user == "u3" && r[0].queueSeconds == 5)
        #expect(r[1].cpus == 8 && r[1].memoryGiB == 16 && r[1].outcome == .failed && r[1].tenant == "g8")
        #expect(r[1].priorityClass == "online" && r[1].origin == nil)  // partition unknown
        #expect(r[2].cpus == 2 && r[2].memoryGiB == nil && r[2].outcome == .cancelled)
    }

    @Test func swfBadLinesHaveTheirNumbers() throws {
        let text = "; UnixStartTime: 0\n1 0 -1 60 4 -1 -1 4 -1 -1 1 1 1 -1 -1 -1 -1 -1\n2 0 -1 60 4\n3 x -1 60 4 -1 -1 4 -1 -1 1 1 1 -1 -1 -1 -1 -1\n"
            + "4 -1 -1 60 4 -1 -1 4 -1 -1 1 1 1 -1 -1 -1 -1 -1\n5 0 -1 60 -1 -1 -1 -1 -1 -1 1 1 1 -1 -1 -1 -1 -1\n"
        let error = #expect(throws: TraceLineError.self) { try SWFReader(start: Instant(microseconds: 0)).read(Array(text.utf8)) }
        #expect(error?.line == 3)
        let r = try SWFReader(start: Instant(microseconds: 0), policy: .skip).read(Array(text.utf8))
        #expect(r.records.count == 1)
        #expect(r.skipped.map(\.line) == [3, 4, 5, 6])
        #expect(r.skipped[1].message.contains("submit time"))
    }

    @Test func theFormatIsDetected() {
        #expect(TraceFormat.detect(Array("; Version: 2.2\n1 0 0".utf8)) == .swf)
        #expect(TraceFormat.detect(Array("\n1 0 -1 60 4 -1 -1 4 -1 -1 1 1 1 -1 -1 -1 -1 -1\n".utf8)) == .swf)
        #expect(TraceFormat.detect(Array((Self.header + "\n").utf8)) == .csv)
    }

    @Test func generatedTracesSurviveBothFormats() throws {
        let jobs = WorkloadGenerator().generate(start: Instant(rfc3339: "2026-07-01T00:00:00+08:00")!, hours: 2, seed: 4)
        let records = jobs.enumerated().map { TraceRecord(job: $1, number: $0 + 1) }
        let back = try ClusterLogReader().read(Array(ClusterLogWriter().text(records).utf8))
        #expect(back.records == records)
        #expect(back.records.map { TraceJob(record: $0, defaults: TraceDefaults()) } == jobs)
        let swf = try SWFReader(start: Instant(microseconds: 0)).read(Array(SWFWriter().text(records).utf8)).records
        #expect(swf.count == records.count)
        for (a, b) in zip(swf, records) {
            #expect(a.submitTime == b.submitTime && a.durationSeconds == b.durationSeconds && a.cpus == b.cpus)
            #expect(a.priorityClass == b.priorityClass && a.origin == b.origin && a.tenant == b.tenant)
        }
    }
}

extension TraceReaderTests {
    @Test func theWriterQuotesWhatNeedsQuoting() throws {
        var r = TraceRecord(jobID: "a,\"b\"", tenant: "t, inc.", cpus: 2, submitTime: Instant(rfc3339: "2026-07-01T00:00:00Z")!,
                            durationSeconds: 1.5)
        r.origin = "gba"
        let text = ClusterLogWriter().text([r])
        #expect(text.contains("\"a,\"\"b\"\"\""))
        #expect(try csv(text).records == [r])
    }
}
