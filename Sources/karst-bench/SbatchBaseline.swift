import Foundation
import KarstTesting

/// The same jobs submitted to the same Slurm directly, one `sbatch` per job, as a user's script
/// (or an orchestrator without Karst) would: the baseline `karst-bench agents --backend slurm`
/// prints beside Karst's figures. The end of each job is seen by polling `squeue` every 100 ms
/// (Karst's agent polls once a second).
struct SbatchBaseline {
    let cluster: SlurmCluster
    let jobs: Int
    let megabytes: Int
    let minutes: Int

    func run() throws {
        var accepted: [Double] = []
        var submittedAt: [String: Double] = [:]
        let start = monotonicSeconds()
        for i in 0..<jobs {
            let t = monotonicSeconds()
            let id = try cluster.run("sbatch", ["--parsable", "--no-requeue", "--job-name", "direct-\(i)", "--ntasks", "1",
                                                "--cpus-per-task", "1", "--mem", "\(megabytes)M", "--time", "\(minutes)",
                                                "--output", "/dev/null", "--wrap", "/bin/true"])
                .split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) } ?? ""
            guard !id.isEmpty else { continue }
            accepted.append(monotonicSeconds() - t)
            submittedAt[id] = t
        }
        var endedAt: [String: Double] = [:]
        let deadline = monotonicSeconds() + 600
        let final: Set<String> = ["COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "OUT_OF_MEMORY", "NODE_FAIL"]
        var failed = 0
        while endedAt.count < submittedAt.count, monotonicSeconds() < deadline {
            let now = monotonicSeconds()
            let text = (try? cluster.run("squeue", ["--states=all", "--noheader", "--format", "%i|%T"])) ?? ""
            for line in text.split(separator: "\n") {
                let f = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
                guard f.count == 2, submittedAt[f[0]] != nil, endedAt[f[0]] == nil, final.contains(f[1]) else { continue }
                endedAt[f[0]] = now
                if f[1] != "COMPLETED" { failed += 1 }
            }
            usleep(100_000)
        }
        let ends = endedAt.map { $0.value - submittedAt[$0.key]! }.sorted()
        accepted.sort()
        let elapsed = (endedAt.values.max() ?? monotonicSeconds()) - start
        let ms = { (s: Double) in String(format: "%.1f", s * 1000) }
        print("""
            the same \(jobs) jobs, one sbatch each, straight to the same Slurm (ends seen by squeue every 100 ms):
              jobs/s end to end:    \(Int(Double(endedAt.count) / elapsed)) (\(endedAt.count) in \(String(format: "%.2f", elapsed)) s, \(failed) failed)
              sbatch → accepted:    p50 \(ms(percentile(accepted, 0.5))) ms, p99 \(ms(percentile(accepted, 0.99))) ms
              submit → end:         p50 \(ms(percentile(ends, 0.5))) ms, p99 \(ms(percentile(ends, 0.99))) ms
            """)
    }
}
