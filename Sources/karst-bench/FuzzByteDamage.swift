import KarstCore

/// Damage below the JSON level to a framed message (JSON + NUL): bit flips, truncation,
/// NULs inside, random and invalid UTF-8 bytes, raw control characters, lone surrogate escapes,
/// and now and then a frame longer than the daemon's 1 MiB limit. Every result still ends in a
/// NUL, so the next frame on the connection starts clean.
enum FuzzByteDamage {
    /// `frame` damaged in one way, and the way's name.
    static func apply(_ frame: [UInt8], _ rng: inout SeededRandom) -> ([UInt8], String) {
        var body = Array(frame.dropLast())
        let kind: String
        switch rng.below(100) {
        case 0..<20:
            for _ in 0..<rng.int(1...8) where !body.isEmpty { body[rng.below(body.count)] ^= 1 << UInt8(rng.below(8)) }
            kind = "bit-flip"
        case 20..<35:
            body = Array(body.prefix(rng.below(body.count + 1)))
            kind = "truncate"
        case 35..<45:
            body.insert(0, at: rng.below(body.count + 1))
            kind = "nul-inside"
        case 45..<55:
            let random = (0..<rng.int(1...16)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            body.insert(contentsOf: random, at: rng.below(body.count + 1))
            kind = "random-bytes"
        case 55..<72:
            body.insert(contentsOf: rng.pick(invalidUTF8), at: insideString(body, &rng))
            kind = "invalid-utf8"
        case 72..<80:
            body.insert(contentsOf: rng.pick(badEscapes), at: insideString(body, &rng))
            kind = "bad-escape"
        case 80..<88:
            body.insert(UInt8(rng.int(1...31)), at: insideString(body, &rng))
            kind = "control-char"
        case 88..<92:
            body = (0..<rng.int(0...64)).map { _ in UInt8(truncatingIfNeeded: rng.next() | 1) }
            kind = "garbage"
        case 92..<99:
            body = Array(rng.pick(skeletons).utf8)
            kind = "skeleton"
        default:
            body = oversized(body, &rng)
            kind = "oversized"
        }
        return (body + [0], kind)
    }

    static let invalidUTF8: [[UInt8]] = [
        [0xFF], [0xC3, 0x28], [0xC0, 0xAF], [0xE0, 0x80, 0xAF], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80],
        [0xF8, 0x88, 0x80, 0x80, 0x80], [0x80], [0xE2, 0x82], [0xF0, 0x9F, 0x98],
    ]

    static let badEscapes: [[UInt8]] = [
        "\\ud800", "\\udc00", "\\ud800\\u0041", "\\uDBFF\\uDFFF", "\\u00", "\\x41", "\\", "\\u0000", "\\U0041", "\\ud800\\ud800",
    ].map { Array($0.utf8) }

    /// Frames that are JSON, or nearly, but no call.
    static let skeletons: [String] = [
        "", " ", "{}", "[]", "null", "0", "\"method\"", "{\"method\":null}", "{\"method\":1}", "{\"method\":\"\"}",
        "{\"parameters\":{}}", "[{\"method\":\"io.karst.Protocol.Ping\"}]", "{\"method\":\"io.karst.Protocol.Ping\"",
        "{\"method\":\"io.karst.Protocol.Ping\"}}", "{\"method\":\"io.karst.Protocol.Ping\",}", "\u{FEFF}{}",
        "{\"method\":\"io.karst.Protocol.Ping\",\"method\":\"io.karst.Protocol.Ping\"}", "{'method':'x'}",
        "{\"method\":\"io.karst.Protocol.Ping\"} {}", "{\"method\":\"io.karst.Admin.Stats\",\"parameters\":null}",
        "{\"method\":\"io.karst.Admin.Stats\",\"more\":1}", "{\"method\":\"io.karst.Protocol.Ping\",\"oneway\":true}",
        "{\"method\":\"org.varlink.service.GetInfo\",\"upgrade\":true}", "\t\n{\"method\":\"io.karst.Protocol.Ping\"}\r\n",
    ]

    /// A position just inside a string of the body (after a quote), or anywhere if there is none.
    private static func insideString(_ body: [UInt8], _ rng: inout SeededRandom) -> Int {
        let quotes = body.indices.filter { body[$0] == UInt8(ascii: "\"") }
        return quotes.isEmpty ? rng.below(body.count + 1) : rng.pick(quotes) + 1
    }

    /// A body over the 1 MiB limit: padded inside a string, or all filler.
    private static func oversized(_ body: [UInt8], _ rng: inout SeededRandom) -> [UInt8] {
        let pad = [UInt8](repeating: UInt8(ascii: rng.chance(0.5) ? "x" : " "), count: max(1, (1 << 20) + rng.below(4096) - body.count / 2))
        var out = body
        out.insert(contentsOf: pad, at: insideString(body, &rng))
        return out
    }
}
