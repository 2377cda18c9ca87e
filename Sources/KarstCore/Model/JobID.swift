/// A job's identity: a number assigned in submission order, shown as `job-<n>`.
public struct JobID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: UInt64

    public init(_ rawValue: UInt64) { self.rawValue = rawValue }

    /// Parses `job-<n>` (or a bare number); nil otherwise.
    public init?(_ text: String) {
        let digits = text.hasPrefix("job-") ? text.dropFirst(4) : Substring(text)
        guard let n = UInt64(digits), n > 0 else { return nil }
        self.rawValue = n
    }

    public var description: String { "job-\(rawValue)" }

    /// The largest id a job may have: both stores keep ids as signed 64-bit integers. Ids are
    /// handed out below it (`SchedulerState.submit` refuses once they are exhausted), so only a
    /// damaged store could hold a larger `next_job_number`, and it traps nothing either.
    public static let largest = JobID(UInt64(Int64.max))

    public static func < (a: JobID, b: JobID) -> Bool { a.rawValue < b.rawValue }
}
