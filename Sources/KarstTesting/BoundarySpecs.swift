import KarstCore

/// Job specs drawn from every boundary a field has: 0, the smallest unit, the largest value a
/// bound allows and one past it, ±infinity and NaN where a double can carry them, Int's ends,
/// the far past and the far future. Names are valid for the topology (so a spec gets as far as
/// its values let it); everything else is drawn to break something.
public enum BoundarySpecs {
    public static let doubles: [Double] = [
        0, -0.0, 1e-9, SpecBounds.minCPU, SpecBounds.minMemoryGiB, 0.5, 1, 64, 4096, 1e9, 1e12, 1e18, 1e300,
        .greatestFiniteMagnitude, .infinity, -.infinity, .nan, -1, -1e300, SpecBounds.defaultMaxDuration,
        SpecBounds.defaultMaxDuration + 1, SpecBounds.maxDurationCeiling, 60_000, 60_001,
    ]
    public static let ints: [Int] = [
        0, 1, -1, 2, 8, 1000, 1001, 100_000, 100_001, 1_000_000, 1_000_001, -1_000_001, 1 << 40, Int.max, Int.min,
    ]

    /// Instants from year 1 to the end of `Instant`'s range, around `now` and around the bounds.
    public static func instants(now: Instant) -> [Instant] {
        [Instant(microseconds: .min), Instant(rfc3339: "0001-01-01T00:00:00Z")!, Instant(microseconds: 0),
         SpecBounds.times.lowerBound, SpecBounds.times.lowerBound.advanced(bySeconds: -1e-6), now,
         now.advanced(bySeconds: -1), now.advanced(bySeconds: 1), now.advanced(bySeconds: 3600),
         now.advanced(bySeconds: 86_400 * 365), SpecBounds.times.upperBound.advanced(bySeconds: -1e-6),
         SpecBounds.times.upperBound, Instant(rfc3339: "9999-12-31T23:59:59Z")!, .never]
    }

    /// `command` values: none, the program alone, each count and size bound at it and one past
    /// it, an empty program, a NUL byte.
    public static let commands: [[String]] = {
        let arg = String(repeating: "a", count: SpecBounds.maxCommandArgumentBytes)
        let perTotal = SpecBounds.maxCommandBytesTotal / SpecBounds.maxCommandArgumentBytes
        return [
            [], ["/bin/true"], [""], ["", "x"], ["/bin/echo", "a\0b"], ["/bin/\0sh"],
            ["/bin/echo"] + Array(repeating: "a", count: SpecBounds.maxCommandArguments - 1),
            ["/bin/echo"] + Array(repeating: "a", count: SpecBounds.maxCommandArguments),
            [arg], [arg + "a"], Array(repeating: arg, count: perTotal), Array(repeating: arg, count: perTotal) + ["a"],
        ]
    }()
    /// `environment` values: none, an empty key, `=` and NUL in a key, NUL in a value, the entry
    /// and byte bounds at them and one past them.
    public static let environments: [[String: String]] = {
        let half = String(repeating: "v", count: SpecBounds.maxEnvironmentBytesTotal / 2 - 1)
        return [
            [:], ["PATH": "/usr/bin"], ["": "v"], ["A=B": "v"], ["A\0": "v"], ["A": "v\0w"], ["A": ""],
            Dictionary(uniqueKeysWithValues: (0..<SpecBounds.maxEnvironmentEntries).map { ("K\($0)", "v") }),
            Dictionary(uniqueKeysWithValues: (0...SpecBounds.maxEnvironmentEntries).map { ("K\($0)", "v") }),
            ["A": half, "B": half], ["A": half, "B": half + "v"],
        ]
    }()
    /// `workingDirectory` values: relative, empty, the root, NUL, the byte bound at it and past it.
    public static let workingDirectories: [String] = [
        "", "relative/dir", "/", "/srv/a\0b", "/" + String(repeating: "d", count: SpecBounds.maxWorkingDirectoryBytes - 1),
        "/" + String(repeating: "d", count: SpecBounds.maxWorkingDirectoryBytes),
    ]

    static func pick<T>(_ values: [T], _ rng: inout SeededRandom) -> T { values[Int(rng.next() % UInt64(values.count))] }

    /// A spec with every numeric, time and size field drawn from the boundaries (each field
    /// independently, so most specs break several bounds and some break none).
    public static func spec(_ rng: inout SeededRandom, _ t: Topology, now: Instant, lastID: UInt64 = 0) -> JobSpec {
        var s = RandomHub.spec(&rng, t, now: now, lastID: lastID)
        func maybe(_ body: (inout SeededRandom) -> Void) { if rng.next() % 2 == 0 { body(&rng) } }
        maybe { s.resources.cpu = pick(doubles, &$0) }
        maybe { s.resources.memoryGiB = pick(doubles, &$0) }
        maybe { s.resources.accelerators = pick(ints, &$0) }
        maybe { s.replicas = pick(ints, &$0) }
        maybe { s.priority = pick(ints, &$0) }
        maybe { s.maxRetries = pick(ints, &$0) }
        maybe { s.durationSeconds = pick(doubles, &$0) }
        maybe { s.maxLatencyMs = pick(doubles, &$0) }
        let times = instants(now: now)
        maybe { s.deadline = pick(times, &$0) }
        maybe { s.notBefore = pick(times, &$0) }
        maybe { s.notAfter = pick(times, &$0) }
        maybe { $0.next() % 4 == 0 ? (s.name = String(repeating: "n", count: 257)) : (s.name = "") }
        maybe { _ in s.labels = ["k": String(repeating: "v", count: 4097)] }
        maybe { s.dependsOn = (0..<UInt64(1 + $0.next() % 1100)).map { JobID(1 + $0) } }
        maybe { s.command = pick(commands, &$0) }
        maybe { s.environment = pick(environments, &$0) }
        maybe { s.workingDirectory = pick(workingDirectories, &$0) }
        return s
    }
}
