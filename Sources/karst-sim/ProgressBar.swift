import Foundation
import KarstCore
import KarstSim
import KarstTrace

/// A one-line progress bar on standard error — simulated time, jobs done, core events per second —
/// redrawn at most ten times a second, and only when standard error is a terminal.
final class ProgressBar: @unchecked Sendable {
    private let enabled: Bool
    private let label: String
    private let started = Date()
    private var lastDraw = Date.distantPast

    init(label: String, quiet: Bool) {
        self.label = label
        enabled = !quiet && Streams.isTerminal(2)
    }

    func update(_ p: Replay.Progress) {
        guard enabled else { return }
        let now = Date()
        guard now.timeIntervalSince(lastDraw) >= 0.1 else { return }
        lastDraw = now
        let fraction = p.jobsTotal > 0 ? Double(p.jobsDone) / Double(p.jobsTotal) : 1
        let width = 24
        let filled = min(width, Int(fraction * Double(width)))
        let rate = Double(p.events) / max(0.001, now.timeIntervalSince(started))
        let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
        FileHandle.standardError.write(Data(("\r\u{1B}[K\(label) \(bar) \(TraceTime().format(p.now)) · "
            + "\(p.jobsDone)/\(p.jobsTotal) jobs done · \(Int(rate / 1000))k events/s").utf8))
    }

    /// Clears the line and prints the final rate.
    func finish(events: Int) {
        let seconds = Date().timeIntervalSince(started)
        if enabled { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        if enabled {
            Streams.error("\(label): replayed in \(String(format: "%.1f", seconds)) s, "
                + "\(Int(Double(events) / max(0.001, seconds))) events/s")
        }
    }
}
