/// A trace line that could not be read, with its 1-based line number.
public struct TraceLineError: Error, Hashable, Sendable, CustomStringConvertible {
    public var line: Int
    public var message: String

    public init(line: Int, _ message: String) {
        self.line = line
        self.message = message
    }

    public var description: String { "line \(line): \(message)" }
}

/// What a reader does with a bad line.
public enum BadLinePolicy: Sendable {
    /// Stop at the first bad line (throw it).
    case stop
    /// Report it and go on.
    case skip
}

/// The records a reader got, and the lines it skipped.
public struct TraceReadResult: Sendable {
    public var records: [TraceRecord]
    public var skipped: [TraceLineError]

    public init(records: [TraceRecord] = [], skipped: [TraceLineError] = []) {
        self.records = records
        self.skipped = skipped
    }
}

/// Collects records and applies the bad-line policy; shared by the readers.
struct RecordCollector {
    let policy: BadLinePolicy
    var result = TraceReadResult()

    mutating func add(line: Int, _ body: () throws(TraceLineError) -> TraceRecord?) throws(TraceLineError) {
        do {
            if let r = try body() { result.records.append(r) }
        } catch {
            var e = error
            e.line = line
            if policy == .stop { throw e }
            result.skipped.append(e)
        }
    }
}
