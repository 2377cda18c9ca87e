import KarstCore
import Testing

@Suite struct InstantTests {
    @Test func rendersAndParsesRFC3339() throws {
        let t = try #require(Instant(rfc3339: "2026-07-01T10:00:00Z"))
        #expect(t.microseconds == 1_782_900_000_000_000)
        #expect(t.rfc3339 == "2026-07-01T10:00:00Z")
        #expect(t.advanced(bySeconds: 0.25).rfc3339 == "2026-07-01T10:00:00.250000Z")
        #expect(Instant(rfc3339: "2026-07-01T18:00:00+08:00") == t)
        #expect(Instant(rfc3339: "2026-07-01T05:30:00-04:30") == t)
        #expect(Instant(rfc3339: "1969-12-31T23:59:59Z")?.microseconds == -1_000_000)
        #expect(Instant(rfc3339: "1969-12-31T23:59:59Z")?.rfc3339 == "1969-12-31T23:59:59Z")
    }

    @Test(arguments: ["", "2026-07-01", "2026-13-01T00:00:00Z", "2026-07-01T25:00:00Z",
                      "2026-07-01T10:00:00", "2026-07-01T10:00:00Zjunk", "2026-07-01T10:00:00.Z"])
    func rejectsMalformedTimestamps(_ text: String) {
        #expect(Instant(rfc3339: text) == nil)
    }

    @Test func roundTripsManyInstants() {
        var rng = SeededRandom(seed: 7)
        for _ in 0..<2000 {
            let t = Instant(microseconds: Int64(rng.next() % 4_000_000_000_000_000))
            #expect(Instant(rfc3339: t.rfc3339) == t)
        }
    }

    @Test func rendersFixedWidthFields() {
        #expect(Instant(microseconds: 1).rfc3339 == "1970-01-01T00:00:00.000001Z")
        #expect(Instant(microseconds: -1).rfc3339 == "1969-12-31T23:59:59.999999Z")
        #expect(Instant(rfc3339: "0001-02-03T04:05:06.07Z")?.rfc3339 == "0001-02-03T04:05:06.070000Z")
        #expect(Instant(rfc3339: "9999-12-31T23:59:59Z")?.rfc3339 == "9999-12-31T23:59:59Z")
        // Past four-digit years the text is still a valid, if unparseable here, rendering.
        #expect(Instant(microseconds: 253_402_300_800_000_000).rfc3339 == "10000-01-01T00:00:00Z")
    }

    @Test func hourOfDayUsesTheOffset() throws {
        let t = try #require(Instant(rfc3339: "2026-07-01T20:30:00Z"))
        #expect(t.hourOfDay(utcOffsetHours: 0) == 20)
        #expect(t.hourOfDay(utcOffsetHours: 8) == 4)
        #expect(t.hourOfDay(utcOffsetHours: -5) == 15)
    }
}

