/// The lines of a text, with 1-based line numbers; `\n` or `\r\n` endings, a missing final newline
/// is fine.
struct TextLines: Sequence {
    let bytes: [UInt8]

    func makeIterator() -> Iterator { Iterator(bytes: bytes) }

    struct Iterator: IteratorProtocol {
        let bytes: [UInt8]
        var at = 0
        var number = 0

        mutating func next() -> (number: Int, text: String)? {
            guard at < bytes.count else { return nil }
            number += 1
            var end = at
            while end < bytes.count, bytes[end] != 10 { end += 1 }
            let next = end + 1
            if end > at, bytes[end - 1] == 13 { end -= 1 }
            let text = String(decoding: bytes[at..<end], as: UTF8.self)
            at = next
            return (number, text)
        }
    }
}

/// Splits one CSV line (RFC 4180: fields may be quoted, `""` is a quote inside quotes).
func csvFields(_ line: String) throws(TraceLineError) -> [Substring] {
    if !line.utf8.contains(34) { return line.split(separator: ",", omittingEmptySubsequences: false) }
    var fields: [Substring] = []
    var field = ""
    var quoted = false
    var it = line.makeIterator()
    var wasQuote = false
    while let c = it.next() {
        if quoted {
            if c == "\"" {
                quoted = false
                wasQuote = true
            } else {
                field.append(c)
            }
            continue
        }
        switch c {
        case "\"":
            if wasQuote { field.append("\"") }
            quoted = true
        case ",":
            fields.append(Substring(field))
            field = ""
        default:
            field.append(c)
        }
        wasQuote = false
    }
    if quoted { throw TraceLineError(line: 0, "unterminated quoted field") }
    fields.append(Substring(field))
    return fields
}

/// Quotes a CSV field when it needs it.
func csvField(_ s: String) -> String {
    guard s.utf8.contains(where: { $0 == 44 || $0 == 34 || $0 == 10 || $0 == 13 }) else { return s }
    return "\"" + s.split(separator: "\"", omittingEmptySubsequences: false).joined(separator: "\"\"") + "\""
}
