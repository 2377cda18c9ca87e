import KarstCore
import KarstProtocol

/// The bounds of every call parameter that is not part of a job spec (those are `SpecBounds`),
/// stated once. A value outside is `io.karst.Scheduler.OutOfRange` naming the parameter and
/// the bound; docs/PROTOCOL.md lists them all.
enum CallBounds {
    /// `List.limit`: default and range.
    static let defaultListLimit = 1000
    static let listLimit = 1...100_000
    /// `Watch.ids`: entries.
    static let maxWatchIDs = 10_000
    /// `Complete.message`: bytes (UTF-8).
    static let maxCompleteMessageBytes = 4096
    /// `Backup.path`: bytes (Linux's PATH_MAX, with its NUL).
    static let maxPathBytes = 4095
    /// One name in `Backup.path`: bytes (NAME_MAX).
    static let maxNameBytes = 255
    /// `SubmitBatch.jobs`: entries.
    static let maxBatchJobs = SpecBounds.maxBatchJobs

    /// A job id, data-centre id, tenant or state name given as a parameter: bytes (UTF-8). Longer
    /// names can match nothing, and would only be echoed back in the error.
    static let maxNameParameterBytes = 256

    /// A name parameter within `maxNameParameterBytes`, without a NUL byte.
    static func checkName(_ value: String?, _ parameter: String) throws(VarlinkError) {
        try checkText(value, atMost: maxNameParameterBytes, parameter)
    }

    /// Text to keep (a message, a path an agent reports): at most `limit` bytes, and no NUL byte
    /// (stored text cannot hold one: PostgreSQL would refuse the whole batch).
    static func checkText(_ value: String?, atMost limit: Int, _ parameter: String) throws(VarlinkError) {
        guard let value else { return }
        try check(value.utf8.count, atMost: limit, parameter, "bytes")
        guard !value.utf8.contains(0) else { throw .outOfRange(parameter, "must not contain a NUL byte") }
    }

    /// A backup path as written: absolute, within PATH_MAX and NAME_MAX, no NUL. (Whether its
    /// directory exists and the file does not is checked when the backup runs.)
    static func checkBackupPath(_ path: String) throws(VarlinkError) -> String {
        try check(path.utf8.count, atMost: maxPathBytes, "path", "bytes")
        guard path.hasPrefix("/") else { throw .outOfRange("path", "must be an absolute path") }
        guard !path.utf8.contains(0) else { throw .outOfRange("path", "must not contain a NUL byte") }
        if let long = path.split(separator: "/").first(where: { $0.utf8.count > maxNameBytes }) {
            throw .outOfRange("path", "each name in it at most \(maxNameBytes) bytes, not \(long.utf8.count)")
        }
        return path
    }

    /// `count` at most `limit`, else `OutOfRange` stating the limit and the unit counted.
    static func check(_ count: Int, atMost limit: Int, _ parameter: String, _ unit: String) throws(VarlinkError) {
        guard count <= limit else {
            throw .outOfRange(parameter, "at most \(limit) \(unit), not \(count)")
        }
    }
}
