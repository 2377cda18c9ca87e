import KarstCore

/// The hostile leaves the fuzzer puts into calls: boundary numbers (as exact JSON text), awkward
/// strings, RFC 3339 edge dates and job ids that are almost right.
enum FuzzScalars {
    static let numbers: [String] = [
        "0", "-0", "-1", "1", "1e-9", "0.001", "1e9", "1e12", "1e18", "1e300", "-1e300", "-1e18",
        "9007199254740992", "9007199254740993", "-9007199254740993", "9223372036854775807",
        "9223372036854775808", "-9223372036854775808", "-9223372036854775809", "18446744073709551616",
        "2147483647", "2147483648", "-2147483649", "4294967296", "0.5", "1.5", "-0.0", "0e0", "1E+2",
        "4.9e-324", "2.2250738585072014e-308", "1.7976931348623157e308", "1e308", "1e-400", "1e400",
        "0.1e1", "123456789012345678901234567890.5e-10", "3.0000000000000000000001", "99e99",
        String(repeating: "9", count: 400), "-" + String(repeating: "1", count: 310),
        "0." + String(repeating: "0", count: 400) + "1", "1" + String(repeating: "0", count: 5000),
    ]

    /// Not JSON numbers at all: the whole message is then unreadable.
    static let invalidNumbers = ["NaN", "Infinity", "-Infinity", "+1", "01", ".5", "1.", "1e", "0x10", "--1", "1_000"]

    static let dates: [String] = [
        "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "1970-01-01T00:00:00Z", "1969-12-31T23:59:59Z",
        "2026-02-29T00:00:00Z", "2024-02-29T23:59:60Z", "2026-13-01T00:00:00Z", "2026-00-10T00:00:00Z",
        "2026-01-32T00:00:00Z", "2026-01-01T24:00:00Z", "2026-01-01T23:60:00Z", "2026-01-01T00:00:00+14:00",
        "2026-01-01T00:00:00-23:59", "2026-01-01T00:00:00+24:00", "2026-01-01t00:00:00z", "2026-01-01 00:00:00Z",
        "2026-01-01T00:00:00.123456789Z", "2026-01-01T00:00:00.Z", "2026-01-01T00:00:00." + String(repeating: "9", count: 300) + "Z",
        "2026-01-01", "T", "Z", "+275760-09-13T00:00:00Z", "-0001-01-01T00:00:00Z", "2026-01-01T00:00:00",
        "99999-01-01T00:00:00Z", "2026-1-1T0:0:0Z", "２０２６-01-01T00:00:00Z", "9223372036854775807-01-01T00:00:00Z",
        "2026-01-01T00:00:00Z\u{0}", "0000-00-00T00:00:00Z",
    ]

    static let jobIDs: [String] = [
        "job-0", "job-1", "job-2", "job--1", "job-1e3", "job-9223372036854775807", "job-9223372036854775808",
        "job-", "JOB-1", "job-01", "job-1 ", " job-1", "job-٣", "job-" + String(repeating: "9", count: 40),
        "job-+1", "job-0x10", "job", "-", "job-1\u{0}", "job-4294967297",
    ]

    static let strings: [String] = [
        "", " ", "a", "贵州", "東數西算", "🀄️🧮", "\u{202E}gba", "e\u{301}", "\u{FEFF}", "\u{10FFFF}", "\u{FFFD}",
        "\u{0}", "\u{1}\u{2}\u{7f}", "\n\t\r", "\\", "\"", "null", "true", "0", "-1", "%s%n%x", "{}", "[]",
        "../../../../etc/passwd", "/dev/null", "gba ", "GBA", "batch\u{0}", "root", "nobody",
        String(repeating: "x", count: 1000), String(repeating: "é", count: 4096), String(repeating: "\u{0}", count: 64),
    ]

    /// A big string: 1 MB (under the frame limit when alone) or a bit over 1 MiB.
    static func huge(_ rng: inout SeededRandom) -> String {
        String(repeating: "A", count: rng.chance(0.5) ? 1_000_000 : (1 << 20) + 16)
    }

    static func number(_ rng: inout SeededRandom) -> FuzzValue {
        rng.chance(0.03) ? .number(rng.pick(invalidNumbers)) : .number(rng.pick(numbers))
    }

    static func string(_ rng: inout SeededRandom) -> FuzzValue {
        switch rng.below(20) {
        case 0: .string(rng.chance(0.02) ? huge(&rng) : String(repeating: "k", count: 1 + rng.below(rng.chance(0.1) ? 70_000 : 300)))
        case 1...3: .string(rng.pick(dates))
        case 4...5: .string(rng.pick(jobIDs))
        default: .string(rng.pick(strings))
        }
    }

    /// A value of a type chosen at random (for type swaps and unknown fields).
    static func anyValue(_ rng: inout SeededRandom) -> FuzzValue {
        switch rng.below(7) {
        case 0: .null
        case 1: .bool(rng.chance(0.5))
        case 2: number(&rng)
        case 3: string(&rng)
        case 4: .array(rng.chance(0.5) ? [] : [number(&rng), string(&rng)])
        case 5: .object(rng.chance(0.5) ? [] : [(key: "a", value: number(&rng))])
        default: .object([(key: "", value: .null)])
        }
    }
}

/// Picking things with the campaign's seeded generator.
extension SeededRandom {
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(n, 1))) }
    mutating func chance(_ p: Double) -> Bool { unit() < p }
    mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }
    mutating func int(_ range: ClosedRange<Int>) -> Int { range.lowerBound + below(range.count) }
}
