import ArgumentParser
import Foundation
import KarstConfig
import KarstCore

#if canImport(Glibc)
import Glibc
#endif

/// `karst-bench core`: the scheduling core alone, on the built-in topology.
struct CoreBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "core",
        abstract: "Enqueue rate, placement rate and memory per pending job of the scheduling core.")

    @Option(parsing: .upToNextOption, help: "Pending-queue depths to measure.")
    var sizes: [Int] = [10_000, 100_000, 1_000_000]

    @Option(help: "Seed of the generated jobs.")
    var seed: UInt64 = 1

    @Flag(help: .hidden)
    var row = false

    mutating func run() throws {
        let topology = KarstConfiguration.builtIn().topology
        if row {
            for n in sizes { printRow(n, measure(n, topology)) }
            return
        }
        print("karst-bench core — built-in topology (\(topology.datacenters.count) data centres), seed \(seed)")
        print(pad("pending", 10) + pad("submit/s", 14) + pad("enqueue/s", 14) + pad("placed", 10)
            + pad("placements/s", 14) + pad("pass ms", 10) + pad("RSS B/job", 14))
        fflush(nil)
        for n in sizes {
            // A fresh process per size: resident memory then measures this size alone.
            let child = Process()
            child.executableURL = URL(fileURLWithPath: "/proc/self/exe")
            child.arguments = ["core", "--row", "--seed", String(seed), "--sizes", String(n)]
            try child.run()
            child.waitUntilExit()
            guard child.terminationStatus == 0 else { throw ExitCode(child.terminationStatus) }
        }
        print("""

            submit/s: SchedulerState.submit (validation, interning, queue insert) on an empty queue up to N.
            enqueue/s: PendingQueue.insert alone. placements/s: jobs placed by one plan(now:) + apply
            over the N-deep queue, divided by the time of both. RSS B/job: growth of resident memory
            while submitting, divided by N. Each size runs in a fresh process, so memory freed by
            another size's run cannot hide growth.
            """)
    }

    func printRow(_ n: Int, _ r: Result) {
        print(pad(String(n), 10) + pad(rate(r.submitRate), 14) + pad(rate(r.enqueueRate), 14)
            + pad(String(r.placed), 10) + pad(rate(r.placementRate), 14)
            + pad(format1(r.passSeconds * 1000), 10) + pad(String(Int(r.bytesPerJob)), 14))
        fflush(nil)
    }

    struct Result {
        var submitRate: Double
        var enqueueRate: Double
        var placed: Int
        var placementRate: Double
        var passSeconds: Double
        var bytesPerJob: Double
    }

    func measure(_ n: Int, _ topology: Topology) -> Result {
        let now = Instant(rfc3339: "2026-07-01T02:00:00Z")!
        // Memory first, in a process that holds nothing else yet: jobs generated one at a time.
        var memRng = SeededRandom(seed: seed)
        let rssBefore = residentBytes()
        var filled = SchedulerState(topology: topology)
        for _ in 0..<n { _ = try? filled.submit(benchSpec(&memRng, topology), now: now) }
        let rssAfter = residentBytes()
        precondition(filled.pendingCount == n)
        filled = SchedulerState(topology: topology)

        // Then speed, with the specs generated beforehand so only submission is timed.
        var rng = SeededRandom(seed: seed)
        let specs = (0..<n).map { _ in benchSpec(&rng, topology) }
        var state = SchedulerState(topology: topology)
        let t0 = monotonicSeconds()
        for spec in specs { _ = try? state.submit(spec, now: now) }
        let submitTime = monotonicSeconds() - t0

        var queue = PendingQueue(classCount: topology.classes.count)
        let t1 = monotonicSeconds()
        for i in 0..<n {
            queue.insert(JobID(UInt64(i + 1)), rank: Double(i % 977), classIndex: i % 4, tenantIndex: i % 8)
        }
        let enqueueTime = monotonicSeconds() - t1

        let t2 = monotonicSeconds()
        let plan = state.plan(now: now)
        let events = state.apply(plan)
        let passTime = monotonicSeconds() - t2
        precondition(state.checkInvariants() == nil)
        return Result(submitRate: Double(n) / submitTime, enqueueRate: Double(n) / enqueueTime,
                      placed: events.count, placementRate: Double(events.count) / passTime,
                      passSeconds: passTime, bytesPerJob: Double(rssAfter - rssBefore) / Double(n))
    }

    /// Mostly small CPU jobs from every region and class, 5 % single-accelerator jobs, 8 tenants.
    func benchSpec(_ rng: inout SeededRandom, _ t: Topology) -> JobSpec {
        let classes = ["critical", "online", "batch", "best-effort"]
        let regions = ["bth", "yrd", "gba", "cc", "local"]
        var spec = JobSpec(
            tenant: "tenant-\(rng.next() % 8)", origin: regions[Int(rng.next() % 5)],
            priorityClass: classes[Int(rng.next() % 4)], priority: Int(rng.next() % 10),
            resources: ResourceRequest(cpu: Double(1 + rng.next() % 4), memoryGiB: Double(2 + rng.next() % 14)),
            durationSeconds: Double(60 + rng.next() % 3600))
        if rng.next() % 20 == 0 {
            spec.resources.accelerators = 1
            spec.resources.acceleratorModel = "ascend-910b"
        }
        return spec
    }
}

func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// Resident set size of this process, from /proc/self/statm.
func residentBytes() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = text.split(separator: " ")
    guard fields.count >= 2, let pages = Int(fields[1]) else { return 0 }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}

func pad(_ s: String, _ width: Int) -> String {
    s.count >= width ? s + " " : s + String(repeating: " ", count: width - s.count)
}

func rate(_ r: Double) -> String {
    r >= 1e6 ? "\(format1(r / 1e6))M" : r >= 1e3 ? "\(format1(r / 1e3))k" : format1(r)
}

func format1(_ v: Double) -> String { String((v * 10).rounded() / 10) }
