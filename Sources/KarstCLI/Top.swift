import ArgumentParser
import KarstClient
import KarstProtocol

#if canImport(Glibc)
import Glibc
#endif

/// `karstctl top`: a live, full-screen view of the hub — each site's pool utilisation, the queue
/// by class, placements per second over time, the latest events, the site agents. Events come
/// from one `Watch` stream as they happen; the figures from `Stats` and `Topology` once per
/// --interval on a second connection (agents every fifth time): a few calls a second, however
/// busy the hub. `q` quits; the view follows the terminal's size.
struct Top: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "top",
        abstract: "A live view: sites' utilisation, queue by class, placements over time, latest events, agents.",
        discussion: "q (or Ctrl-C) quits. Works in any terminal of at least 40×10; lays out for 80×24 and grows with it.")
    @OptionGroup var connection: Connection
    @Option(help: "Seconds between refreshes of the figures; events show as they happen.") var interval: Double = 1
    @Option(help: ArgumentHelp("Stop after this many refreshes (scripts, tests).", valueName: "N")) var iterations: Int?

    func validate() throws {
        guard interval >= 0.1, interval <= 60 else { throw ValidationError("--interval must be between 0.1 and 60 seconds, not \(interval)") }
    }

    func run() throws {
        try KarstCLI.run { try TopView(daemon: connection.daemon, interval: interval, iterations: iterations).run() }
    }
}

/// Set from signal handlers, read by the loop.
nonisolated(unsafe) private var topResized: sig_atomic_t = 1
nonisolated(unsafe) private var topInterrupted: sig_atomic_t = 0

/// The view's state and loop.
struct TopView {
    let daemon: Daemon
    let interval: Double
    let iterations: Int?

    /// What the last refresh read.
    struct Figures {
        var running = 0.0
        var pendingByClass: [(String, Double)] = []
        var placementsPerSecond = 0.0
        var generation = 0.0
        var sites: [(datacenter: String, state: String, pool: String, share: Double, running: Int)] = []
        var agents: [(name: String, datacenter: String, state: String, runs: Int)] = []
    }

    func run() throws {
        let stats = try daemon.open()
        defer { stats.close() }
        let watch = try daemon.open()
        defer { watch.close() }
        try Failure.map { try watch.stream("io.karst.Scheduler.Watch") }
        watch.setReceiveTimeout(seconds: 0.05)
        let version = (try? Failure.map { try stats.call("org.varlink.service.GetInfo") })?["version"]?.stringValue ?? "?"

        let terminal = Terminal()
        defer { terminal.restore() }
        // The signals the view answers must reach it, whatever mask its parent left it.
        var handled = sigset_t()
        sigemptyset(&handled)
        for s in [SIGWINCH, SIGINT, SIGTERM] { sigaddset(&handled, s) }
        pthread_sigmask(SIG_UNBLOCK, &handled, nil)
        signal(SIGWINCH) { _ in topResized = 1 }
        signal(SIGINT) { _ in topInterrupted = 1 }
        signal(SIGTERM) { _ in topInterrupted = 1 }

        var figures = Figures()
        var history: [Double] = []
        var events: [String] = []
        var refreshes = 0
        var nextRefresh = 0.0
        var dirty = true
        while topInterrupted == 0 {
            if terminal.readKey() == UInt8(ascii: "q") { break }
            let now = monotonic()
            if now >= nextRefresh {
                figures = try Self.read(stats, agents: refreshes % 5 == 0 ? nil : figures.agents)
                history.append(figures.placementsPerSecond)
                if history.count > 512 { history.removeFirst(history.count - 512) }
                refreshes += 1
                nextRefresh = now + interval
                dirty = true
            }
            // Events as they come: read what arrived within 50 ms.
            do {
                while true {
                    let reply = try watch.receive()
                    if let e = reply.error { throw Failure.refused(e) }
                    if let line = Self.eventLine(reply.parameters) { events.append(line) }
                    if events.count > 200 { events.removeFirst(events.count - 200) }
                    dirty = true
                    if !reply.continues { throw Failure.unreachable("the daemon ended the event stream") }
                }
            } catch ClientError.io {
                // Nothing more within the timeout.
            } catch let e as ClientError {
                throw Failure.unreachable(e.description)
            }
            if topResized != 0 {
                topResized = 0
                terminal.measure()
                dirty = true
            }
            if dirty {
                terminal.draw(Self.screen(figures, history: history, events: events, version: version,
                                          rows: terminal.rows, columns: terminal.columns))
                dirty = false
            }
            if let iterations, refreshes >= iterations { break }
        }
    }

    /// Stats, Topology and (when `agents` is nil) Agents.
    static func read(_ c: VarlinkConnection, agents: [(name: String, datacenter: String, state: String, runs: Int)]?) throws -> Figures {
        var f = Figures()
        let s = try Failure.map { try c.call("io.karst.Admin.Stats") }
        f.running = s["running"]?.numberValue ?? 0
        f.placementsPerSecond = s["placementsPerSecond"]?.numberValue ?? 0
        f.generation = s["generation"]?.numberValue ?? 0
        for case .object(let p) in s["pending"]?.arrayValue ?? [] {
            f.pendingByClass.append((p["class"]?.stringValue ?? "?", p["pending"]?.numberValue ?? 0))
        }
        let t = try Failure.map { try c.call("io.karst.Admin.Topology") }
        for dc in try decodeList(t, "datacenters", WireDatacenter.self) {
            for p in dc.pools {
                let c = p.capacity, a = p.allocated
                var share = max(c.cpu > 0 ? a.cpu / c.cpu : 0, c.memoryGiB > 0 ? a.memoryGiB / c.memoryGiB : 0)
                if c.accelerators > 0 { share = max(share, Double(a.accelerators) / Double(c.accelerators)) }
                f.sites.append((dc.id, dc.state, p.id, share, p.running))
            }
        }
        if let agents {
            f.agents = agents
        } else if let a = try? c.call(AdminInterface.Agents.name), let agents = try? decodeList(a, "agents", WireAgent.self) {
            f.agents = agents.map { ($0.name, $0.datacenter, $0.state, $0.runs) }
        }
        return f
    }

    /// `14:02:10 placed   job-402  batch from gba → ct-guizhou/cpu`
    static func eventLine(_ p: JSONObject) -> String? {
        guard case .object(let e)? = p["event"], case .object(let j)? = e["job"] else { return nil }
        let at = e["at"]?.stringValue ?? ""
        let time = at.count >= 19 ? String(at.dropFirst(11).prefix(8)) : at
        let spec = j["spec"]?.objectValue
        var line = "\(time) \(padRight(e["kind"]?.stringValue ?? "?", 9)) \(padRight(j["id"]?.stringValue ?? "?", 9)) "
            + "\(spec?["priorityClass"]?.stringValue ?? "?") from \(spec?["origin"]?.stringValue ?? "?")"
        if let dc = j["datacenter"]?.stringValue { line += " → \(dc)/\(j["pool"]?.stringValue ?? "?")" }
        if e["kind"]?.stringValue == "submitted" || e["kind"]?.stringValue == "requeued",
           let why = j["pendingReason"]?.stringValue { line += "  (\(why))" }
        return line
    }

    /// The whole screen as lines of at most `columns` characters, at most `rows` of them.
    static func screen(_ f: Figures, history: [Double], events: [String], version: String, rows: Int, columns: Int) -> [String] {
        let pending = f.pendingByClass.reduce(0) { $0 + $1.1 }
        var out: [String] = []
        let clock = wallClockText()
        let head = "karstd \(version) · \(clock) · running \(number(f.running)) · pending \(number(pending)) · "
            + "\(number(f.placementsPerSecond)) placed/s"
        out.append(fit(head, columns - 8) + String(repeating: " ", count: max(1, columns - 8 - width(fit(head, columns - 8)))) + "q: quit")
        out.append("")
        // Sites: one line per pool while they fit, else one per data centre (its busiest pool).
        let budget = max(3, rows - 12)
        // name 22, pool 6, the bar and its percentage (width + 7), "  NNNNN running" 14, spaces 3.
        let barWidth = max(10, min(40, columns - 52))
        var siteLines: [String] = []
        for s in f.sites {
            let dc = s.datacenter + (s.state == "active" ? "" : " (\(s.state))")
            siteLines.append("\(padRight(fit(dc, 22), 22)) \(padRight(fit(s.pool, 6), 6)) \(bar(s.share, width: barWidth)) "
                + "\(padLeft(String(s.running), 6)) running")
        }
        if siteLines.count > budget {
            var busiest: [String: (String, Double, Int)] = [:]
            var order: [String] = []
            for s in f.sites {
                if busiest[s.datacenter] == nil { order.append(s.datacenter) }
                let b = busiest[s.datacenter]
                if b == nil || s.share > b!.1 { busiest[s.datacenter] = (s.pool, s.share, (b?.2 ?? 0) + s.running) } else {
                    busiest[s.datacenter]!.2 += s.running
                }
            }
            siteLines = order.prefix(budget).map { id in
                let b = busiest[id]!
                return "\(padRight(fit(id, 22), 22)) \(padRight(fit(b.0, 6), 6)) \(bar(b.1, width: barWidth)) \(padLeft(String(b.2), 6)) running"
            }
        }
        out.append("SITES (busiest of cores, memory, accelerators)")
        out += siteLines
        out.append("")
        out.append("QUEUE  " + f.pendingByClass.map { "\($0.0) \(number($0.1))" }.joined(separator: "   "))
        let spark = sparkline(history, width: max(10, columns - 34))
        out.append("PLACEMENTS/S " + spark + "  max \(number(history.suffix(max(10, columns - 34)).max() ?? 0))")
        if !f.agents.isEmpty {
            let live = f.agents.filter { $0.state == "live" }.count
            out.append(fit("AGENTS \(live)/\(f.agents.count) live  " + f.agents.map { "\($0.name)@\($0.datacenter) \($0.state) \($0.runs)" }
                .joined(separator: "  "), columns))
        }
        out.append("")
        out.append("EVENTS")
        let room = max(0, rows - out.count)
        out += events.suffix(room).reversed()
        return out.prefix(rows).map { fit($0, columns) }
    }

    /// ` ▁▂▃▄▅▆▇█` over the last `width` samples, scaled to their maximum.
    static func sparkline(_ samples: [Double], width: Int) -> String {
        let ticks: [Character] = [" ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]
        let shown = samples.suffix(width)
        let top = max(shown.max() ?? 0, 1e-9)
        let line = String(shown.map { v in v <= 0 ? ticks[0] : ticks[max(1, min(8, Int((v / top * 8).rounded(.up))))] })
        return String(repeating: " ", count: width - shown.count) + line
    }
}

/// `s` cut to `n` columns (with `…` when cut).
func fit(_ s: String, _ n: Int) -> String {
    guard n > 0 else { return "" }
    return width(s) <= n ? s : String(s.prefix(max(0, n - 1))) + "…"
}

func padLeft(_ s: String, _ n: Int) -> String { width(s) >= n ? s : String(repeating: " ", count: n - width(s)) + s }

/// `HH:MM:SSZ` of the wall clock (UTC).
func wallClockText() -> String {
    let s = Int(wallSeconds()) % 86400
    return "\(twoDigits(s / 3600)):\(twoDigits(s / 60 % 60)):\(twoDigits(s % 60))Z"
}

func monotonic() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
}

/// The terminal for a full-screen view: the alternate screen, no cursor, keys read one at a
/// time without echo — all put back by `restore` (also when the view ends by an error).
final class Terminal {
    private var saved = termios()
    private let interactive: Bool
    private(set) var rows = 24
    private(set) var columns = 80

    init() {
        interactive = isatty(0) == 1 && tcgetattr(0, &saved) == 0
        if interactive {
            var raw = saved
            raw.c_lflag &= ~tcflag_t(ICANON | ECHO)
            withUnsafeMutableBytes(of: &raw.c_cc) { cc in
                cc[Int(VMIN)] = 0
                cc[Int(VTIME)] = 0
            }
            tcsetattr(0, TCSANOW, &raw)
        }
        write("\u{1B}[?1049h\u{1B}[?25l")
        measure()
    }

    /// Reads the terminal's size (or $LINES/$COLUMNS, else 24×80).
    func measure() {
        var w = winsize()
        if ioctl(1, UInt(TIOCGWINSZ), &w) == 0, w.ws_row > 0, w.ws_col > 0 {
            rows = Int(w.ws_row)
            columns = Int(w.ws_col)
        } else {
            rows = getenv("LINES").flatMap { Int(String(cString: $0)) } ?? 24
            columns = getenv("COLUMNS").flatMap { Int(String(cString: $0)) } ?? 80
        }
    }

    /// A key pressed since the last call, if any.
    func readKey() -> UInt8? {
        guard interactive else { return nil }
        var c: UInt8 = 0
        return read(0, &c, 1) == 1 ? c : nil
    }

    /// Redraws the screen: each line from the top, cleared to its end, then below the last.
    func draw(_ lines: [String]) {
        var out = "\u{1B}[H"
        for (i, l) in lines.enumerated() { out += l + "\u{1B}[K" + (i < lines.count - 1 ? "\r\n" : "") }
        write(out + "\u{1B}[J")
    }

    func restore() {
        write("\u{1B}[?25h\u{1B}[?1049l")
        if interactive { tcsetattr(0, TCSANOW, &saved) }
    }

    private func write(_ s: String) { writeAll(1, Array(s.utf8)) }
}
