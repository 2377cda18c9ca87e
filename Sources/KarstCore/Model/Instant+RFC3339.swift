/// RFC 3339 rendering and parsing without Foundation, so the pure core can stamp events itself.
///
/// Output is always UTC with a `Z` and, when the instant has a fractional second, microseconds.
/// Input accepts `Z` or a `±hh:mm` offset and up to nine fractional digits.
extension Instant {
    /// `2026-07-01T10:00:00Z` or `2026-07-01T10:00:00.250000Z`.
    public var rfc3339: String {
        var seconds = microseconds / 1_000_000
        var micros = microseconds % 1_000_000
        if micros < 0 { micros += 1_000_000; seconds -= 1 }
        var days = seconds / 86_400
        var secOfDay = seconds % 86_400
        if secOfDay < 0 { secOfDay += 86_400; days -= 1 }
        let (y, m, d) = Self.civil(fromDays: days)
        guard (0...9999).contains(y) else {
            // Outside four digits: the plain, slower rendering (never on a real timestamp).
            var out = "\(y)-\(pad(m, 2))-\(pad(d, 2))T"
            out += "\(pad(secOfDay / 3600, 2)):\(pad(secOfDay / 60 % 60, 2)):\(pad(secOfDay % 60, 2))"
            if micros != 0 { out += "." + pad(micros, 6) }
            return out + "Z"
        }
        // Written digit by digit into the string's own storage, with no padded pieces in between:
        // this renders every timestamp of every job reply, on the connections' event loops.
        return String(unsafeUninitializedCapacity: 27) { out in
            var i = 0
            func put(_ value: Int64, _ width: Int) {
                var v = value
                for k in stride(from: width - 1, through: 0, by: -1) {
                    out[i + k] = UInt8(truncatingIfNeeded: 48 + v % 10)
                    v /= 10
                }
                i += width
            }
            func mark(_ c: Unicode.Scalar) { out[i] = UInt8(ascii: c); i += 1 }
            put(y, 4); mark("-"); put(m, 2); mark("-"); put(d, 2); mark("T")
            put(secOfDay / 3600, 2); mark(":"); put(secOfDay / 60 % 60, 2); mark(":"); put(secOfDay % 60, 2)
            if micros != 0 { mark("."); put(micros, 6) }
            mark("Z")
            return i
        }
    }

    /// Parses an RFC 3339 timestamp; `nil` when the text is not one.
    public init?(rfc3339 text: String) {
        let b = Array(text.utf8)
        func num(_ at: Int, _ len: Int) -> Int64? {
            guard at + len <= b.count else { return nil }
            var v: Int64 = 0
            for i in at..<(at + len) {
                guard b[i] >= 48, b[i] <= 57 else { return nil }
                v = v * 10 + Int64(b[i] - 48)
            }
            return v
        }
        guard b.count >= 20, b[4] == 45, b[7] == 45, b[10] == 84 || b[10] == 116 || b[10] == 32,
              b[13] == 58, b[16] == 58,
              let y = num(0, 4), let mo = num(5, 2), let d = num(8, 2),
              let h = num(11, 2), let mi = num(14, 2), let s = num(17, 2),
              (1...12).contains(mo), (1...31).contains(d), h < 24, mi < 60, s < 61
        else { return nil }
        var i = 19
        var micros: Int64 = 0
        if i < b.count, b[i] == 46 {
            i += 1
            var digits = 0
            while i < b.count, b[i] >= 48, b[i] <= 57 {
                if digits < 6 { micros = micros * 10 + Int64(b[i] - 48) }
                digits += 1
                i += 1
            }
            guard digits > 0, digits <= 9 else { return nil }
            for _ in 0..<max(0, 6 - digits) { micros *= 10 }
        }
        var offset: Int64 = 0
        guard i < b.count else { return nil }
        if b[i] == 90 || b[i] == 122 {
            i += 1
        } else if b[i] == 43 || b[i] == 45, let oh = num(i + 1, 2), b.count > i + 3, b[i + 3] == 58,
                  let om = num(i + 4, 2) {
            offset = (oh * 3600 + om * 60) * (b[i] == 45 ? -1 : 1)
            i += 6
        } else {
            return nil
        }
        guard i == b.count else { return nil }
        let days = Self.days(fromCivil: y, mo, d)
        let secs = days * 86_400 + h * 3600 + mi * 60 + s - offset
        self.init(microseconds: secs * 1_000_000 + micros)
    }

    /// Howard Hinnant's days-from-civil algorithm (proleptic Gregorian calendar).
    static func days(fromCivil year: Int64, _ month: Int64, _ day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The inverse of `days(fromCivil:)`.
    static func civil(fromDays days: Int64) -> (Int64, Int64, Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? yoe + era * 400 + 1 : yoe + era * 400, m, d)
    }
}

private func pad(_ value: Int64, _ width: Int) -> String {
    let s = String(value)
    return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
}
