import Foundation

/// One stretch of a campaign against one daemon: the fuzzing connections, each on its own
/// thread, the canary beside them, and this thread watching the daemon (its pid and its stderr,
/// every 20 ms) and its memory until the frames are sent, the time is up, or the daemon crashes.
struct FuzzRound {
    let daemon: FuzzDaemon
    let templates: FuzzTemplates
    let connections: Int
    let frames: Int
    let seconds: Double
    let seed: UInt64
    let batchSize: Int

    /// What the round saw.
    struct Outcome {
        var stats = FuzzStats()
        var workers: [FuzzWorker.Result] = []
        var canary = FuzzCanary.Report()
        var died = false
        /// Peak resident memory (VmHWM), KiB, as last read while the daemon was alive.
        var peakKB = 0
        var elapsed = 0.0
    }

    func run() -> Outcome {
        let control = FuzzControl(frames: frames, seconds: seconds)
        let canary = FuzzCanary(path: daemon.socketPath)
        canary.start()
        let results = FuzzShared<[FuzzWorker.Result]>([])
        let group = DispatchGroup()
        let start = fuzzClock()
        for i in 0..<connections {
            let worker = FuzzWorker(index: i, socketPath: daemon.socketPath,
                                    generator: FuzzGenerator(templates: templates, seed: seed &* 1_000_003 &+ UInt64(i)),
                                    control: control, batchSize: batchSize)
            group.enter()
            Thread {
                let r = worker.run()
                results.update { $0.append(r) }
                group.leave()
            }.start()
        }
        var out = Outcome()
        var lastSample = start
        var lastProgress = start
        while group.wait(timeout: .now() + .milliseconds(20)) == .timedOut {
            if !out.died, daemon.hasCrashed {
                out.died = true
                control.stop()
            }
            let now = fuzzClock()
            if now - lastSample >= 1, let m = daemon.memory() {
                out.peakKB = max(out.peakKB, m.peak)
                lastSample = now
            }
            if now - lastProgress >= 10 {
                lastProgress = now
                let sent = control.sent.load(ordering: .relaxed)
                print("  [\(Int(now - start)) s] \(sent) frames, \(Int(Double(sent) / (now - start)))/s, "
                    + "canary max \(fuzzMillis(canary.current.worst)) ms, daemon VmHWM \(out.peakKB / 1024) MiB")
                fflush(nil)
            }
        }
        out.elapsed = fuzzClock() - start
        out.died = out.died || daemon.hasCrashed
        if let m = daemon.memory() { out.peakKB = max(out.peakKB, m.peak) }
        out.canary = canary.stop()
        out.workers = results.snapshot.sorted { $0.index < $1.index }
        for w in out.workers { out.stats.merge(w.stats) }
        return out
    }
}

/// Seconds as whole milliseconds, for reports.
func fuzzMillis(_ seconds: Double) -> Int { Int((seconds * 1000).rounded()) }
