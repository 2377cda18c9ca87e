import KarstCore
import KarstProtocol

/// The jobs a soak submits: small (so the hub never fills and nothing is preempted), every
/// origin and class, modelled durations of 10 s to 2 min, no retries and no dependencies (so
/// an acknowledged completion is final), a quarter with a window two hours away (so there are
/// pending jobs to hold, release and cancel), and a unique label.
enum SoakSpec {
    static let origins = ["bth", "yrd", "gba", "cc", "local"]
    static let classes = ["batch", "batch", "best-effort", "online", "critical"]

    static func job(label: String, _ rng: inout SeededRandom) -> JSONObject {
        var job: JSONObject = [
            "origin": .string(origins[Int(rng.next() % UInt64(origins.count))]),
            "priorityClass": .string(classes[Int(rng.next() % UInt64(classes.count))]),
            "priority": .number(Double(rng.next() % 100)),
            "resources": .object(["cpu": .number(Double(1 + rng.next() % 40) / 10),
                                  "memoryGiB": .number(Double(1 + rng.next() % 32) / 2)]),
            "durationSeconds": .number(Double(10 + rng.next() % 111)),
            "maxRetries": .number(0),
            "labels": .object(["soak": .string(label)]),
        ]
        if rng.next() % 4 == 0 { job["notBefore"] = .string(soakRFC3339(secondsFromNow: 7200)) }
        return job
    }
}
