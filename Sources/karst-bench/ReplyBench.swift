import ArgumentParser
import Foundation
import KarstConfig
import KarstCore
import KarstProtocol
import KarstWire

/// `karst-bench replies`: what rendering a `List` reply costs the daemon, per job, apart from
/// the socket (the engine renders it; a list of 1,000 jobs is most of `karstctl list`'s wait).
struct ReplyBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replies",
        abstract: "Time to render List replies (jobs to wire form to JSON) on the built-in topology.")

    @Option(help: "Jobs in each reply.") var jobs = 1000
    @Option(help: "Replies rendered.") var rounds = 200

    mutating func run() throws {
        var state = SchedulerState(topology: KarstConfiguration.builtIn().topology)
        let now = Instant(rfc3339: "2026-07-01T02:00:00.250000Z")!
        let spec = JobSpec(name: "array-0", tenant: "root", origin: "gba", priorityClass: "batch",
                           resources: ResourceRequest(cpu: 0.001, memoryGiB: 0.001))
        _ = try state.submitBatch(Array(repeating: spec, count: jobs), now: now)
        _ = state.tick(now: now)
        let page = state.jobPage(limit: jobs).jobs
        var bytes = 0
        let start = Date()
        for _ in 0..<rounds {
            let frame = VarlinkReply.frame(parameters: SchedulerInterface.List.Reply(
                jobs: page.map { WireMapping.job($0, in: state) }, remaining: 0))
            bytes = frame.count
        }
        let seconds = Date().timeIntervalSince(start) / Double(rounds)
        print("List reply of \(page.count) jobs (\(page.filter { $0.state == .running }.count) running): "
            + String(format: "%.2f ms, %.2f µs per job, %d bytes", seconds * 1e3, seconds * 1e6 / Double(page.count), bytes))
    }
}
