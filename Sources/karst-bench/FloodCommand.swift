import ArgumentParser
import Foundation

/// `karst-bench flood`: floods and slow clients against fresh daemons, each bounded and stated.
struct FloodBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flood",
        abstract: "Floods and slow clients: connection limits, idle and half-written connections, endless frames, a stuck Watch.",
        discussion: """
            Each scenario runs against a freshly started release karstd (built beside this binary; its
            own temporary state directory and configuration file), with a canary (Ping, Submit, Get every
            100 ms) beside it. Prints a Markdown table for docs/BENCHMARKS.md. Exits 1 if a daemon died or
            a canary call went unanswered for more than 2 s.
              a  max_connections + extra connects in one burst
              b  thousands of idle connections
              c  half-written frames (no NUL) on hundreds of connections
              d  one endless frame
              e  a Watch that never reads while jobs with big labels are submitted
            """)

    @Option(parsing: .upToNextOption, help: "Scenarios to run (a b c d e).")
    var only: [String] = ["a", "b", "c", "d", "e"]

    @Option(help: "a: max_connections.")
    var maxConnections = 64

    @Option(help: "a: connections beyond max_connections.")
    var extra = 1000

    @Option(help: "b: idle connections.")
    var idle = 10_000

    @Option(help: "b, c: idle_timeout_seconds.")
    var idleTimeout = 10

    @Option(help: "b, c: seconds to watch the connections after they are open.")
    var hold = 20.0

    @Option(help: "c: connections with a half-written frame.")
    var halfWritten = 500

    @Option(help: "c: bytes of each half-written frame.")
    var partialBytes = 256 << 10

    @Option(help: "e: jobs submitted while the Watch does not read.")
    var jobs = 20_000

    @Option(help: "e: bytes of each job's label.")
    var labelBytes = 2048

    mutating func run() throws {
        let files = FloodStage.raiseFileLimit(to: 2 * idle + 4096)
        print("open files allowed (RLIMIT_NOFILE, inherited by each daemon): \(files)")
        var rows: [FloodRow] = []
        for scenario in only {
            print("scenario \(scenario)…")
            fflush(nil)
            let row: FloodRow
            switch scenario {
            case "a": row = try FloodConnections.overLimit(limit: maxConnections, extra: extra)
            case "b": row = try FloodConnections.idle(count: idle, idleTimeout: idleTimeout, hold: hold)
            case "c": row = try FloodPartial.halfWritten(count: halfWritten, bytes: partialBytes, idleTimeout: idleTimeout, hold: hold)
            case "d": row = try FloodPartial.endless()
            case "e": row = try FloodWatch.slowWatcher(jobs: jobs, labelBytes: labelBytes)
            default: throw ValidationError("unknown scenario \(scenario): a, b, c, d or e")
            }
            print("  " + row.markdown)
            rows.append(row)
        }
        print("\n" + FloodRow.header)
        rows.forEach { print($0.markdown) }
        print(Self.notes(somaxconn: (try? String(contentsOfFile: "/proc/sys/net/core/somaxconn", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? "?"))
        for row in rows where !row.canary.failures.isEmpty {
            print("canary failures in \(row.scenario): " + row.canary.failures.joined(separator: "; "))
        }
        let failed = rows.filter { $0.crash != nil || !$0.canaryServed }
        print(failed.isEmpty ? "PASS: every daemon lived and served its canary throughout"
            : "FAIL: " + failed.map(\.scenario).joined(separator: ", "))
        if !failed.isEmpty { throw ExitCode(1) }
    }

    static func notes(somaxconn: String) -> String {
        """

        Notes. RSS figures are the daemon's VmRSS right after start, its VmHWM at the end of the flood, and its
        VmRSS 3 s after the flood's clients closed. "canary late" counts calls answered after more than 2 s or
        not at all. A connect refused with EAGAIN is the kernel's doing, not the daemon's: a non-blocking
        AF_UNIX connect fails so once the listener's accept queue is full, i.e. holds more than its listen
        backlog. ControlServer sets that backlog to 256 (.serverChannelOption(.backlog, value: 256); NIO's own
        default is 128) and the kernel caps it at net.core.somaxconn (\(somaxconn) here); NIO accepts at most
        4 connections per wake-up of the listening socket (maxMessagesPerRead), so a burst of connects
        outruns accept. A blocking connect would wait instead (up to its send timeout).
        """
    }
}
