import TOMLKit

/// Collects configuration issues while a document is read, so one run reports all of them.
final class IssueSink {
    var issues: [ConfigIssue] = []

    func add(_ path: String, _ message: String) { issues.append(ConfigIssue(path: path, message: message)) }
}

/// Reads typed values from one TOML table, remembering which keys were read so `finish()` can
/// report every key nobody asked for. Type mismatches and missing keys are reported at their full
/// key path and read as nil; the caller substitutes a default and carries on.
struct TableReader {
    let table: TOMLTable
    let path: String
    let sink: IssueSink
    private var seen: Set<String> = []

    init(_ table: TOMLTable, path: String, sink: IssueSink) {
        self.table = table
        self.path = path
        self.sink = sink
    }

    func keyPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    private mutating func value(_ key: String, required: Bool) -> TOMLValueConvertible? {
        seen.insert(key)
        guard let v = table[key] else {
            if required { sink.add(keyPath(key), "is required") }
            return nil
        }
        return v
    }

    mutating func string(_ key: String, required: Bool = false) -> String? {
        guard let v = value(key, required: required) else { return nil }
        guard let s = v.string else { return mismatch(key, "a string", v) }
        return s
    }

    /// An integer or a float, as a Double.
    mutating func number(_ key: String, required: Bool = false) -> Double? {
        guard let v = value(key, required: required) else { return nil }
        if let d = v.double { return d }
        if let i = v.int { return Double(i) }
        return mismatch(key, "a number", v)
    }

    mutating func int(_ key: String, required: Bool = false) -> Int? {
        guard let v = value(key, required: required) else { return nil }
        guard let i = v.int else { return mismatch(key, "an integer", v) }
        return i
    }

    mutating func bool(_ key: String, required: Bool = false) -> Bool? {
        guard let v = value(key, required: required) else { return nil }
        guard let b = v.bool else { return mismatch(key, "true or false", v) }
        return b
    }

    mutating func table(_ key: String, required: Bool = false) -> TableReader? {
        guard let v = value(key, required: required) else { return nil }
        guard let t = v.table else { return mismatch(key, "a table", v) }
        return TableReader(t, path: keyPath(key), sink: sink)
    }

    /// An array of tables (`[[key]]`), each with its indexed path (`key[0]`).
    mutating func tables(_ key: String, required: Bool = false) -> [TableReader] {
        guard let v = value(key, required: required) else { return [] }
        guard let a = v.array else { return mismatch(key, "an array of tables", v) ?? [] }
        var out: [TableReader] = []
        for (i, element) in a.enumerated() {
            guard let t = element.table else {
                sink.add("\(keyPath(key))[\(i)]", "expected a table, found \(element.type)")
                continue
            }
            out.append(TableReader(t, path: "\(keyPath(key))[\(i)]", sink: sink))
        }
        return out
    }

    /// An array of numbers.
    mutating func numbers(_ key: String, required: Bool = false) -> [Double]? {
        guard let v = value(key, required: required) else { return nil }
        guard let a = v.array else { return mismatch(key, "an array of numbers", v) }
        var out: [Double] = []
        for (i, element) in a.enumerated() {
            if let d = element.double { out.append(d) } else if let n = element.int { out.append(Double(n)) } else {
                sink.add("\(keyPath(key))[\(i)]", "expected a number, found \(element.type)")
                return nil
            }
        }
        return out
    }

    /// An array of strings.
    mutating func strings(_ key: String, required: Bool = false) -> [String]? {
        guard let v = value(key, required: required) else { return nil }
        guard let a = v.array else { return mismatch(key, "an array of strings", v) }
        var out: [String] = []
        for (i, element) in a.enumerated() {
            guard let s = element.string else {
                sink.add("\(keyPath(key))[\(i)]", "expected a string, found \(element.type)")
                return nil
            }
            out.append(s)
        }
        return out
    }

    /// Reports every key of the table that was never read.
    func finish() {
        for key in table.keys.sorted() where !seen.contains(key) {
            sink.add(keyPath(key), "unknown key")
        }
    }

    func add(_ key: String, _ message: String) { sink.add(keyPath(key), message) }

    private func mismatch<T>(_ key: String, _ expected: String, _ v: TOMLValueConvertible) -> T? {
        sink.add(keyPath(key), "expected \(expected), found \(v.type)")
        return nil
    }
}
