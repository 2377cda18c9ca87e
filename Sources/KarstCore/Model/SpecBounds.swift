/// Every bound a job spec is checked against, stated once. `SchedulerState` enforces them when a
/// job is submitted (`InvalidJob` naming the field and the bound); docs/PROTOCOL.md lists them.
///
/// Sizes are bounded from below by the smallest unit the core counts (a milli-core, a MiB) and
/// not from above: a job larger than every pool is `Unschedulable` with the size it exceeds,
/// which is a statement about the hub, not about the spec. Durations have a configurable
/// maximum (`[settings] max_duration_seconds`). Times must fall in a window the arithmetic is safe
/// in and that means something for a scheduler that exists now.
public enum SpecBounds {
    /// The smallest non-zero CPU request: one milli-core.
    public static let minCPU = 0.001
    /// The smallest non-zero memory request: one MiB.
    public static let minMemoryGiB = 1.0 / 1024
    /// Priority within a class.
    public static let priority = -1_000_000...1_000_000
    /// Gang size.
    public static let replicas = 1...100_000
    /// Latency budget, in milliseconds.
    public static let maxLatencyMs = 1.0...60_000.0
    /// Retries of a failed run.
    public static let maxRetries = 0...1000
    /// Entries of `dependsOn`.
    public static let maxDependencies = 1000
    /// Entries of `datacenters`.
    public static let maxDatacenters = 64
    /// Bytes of `name` (UTF-8).
    public static let maxNameBytes = 256
    /// Bytes of `tenant` (UTF-8); at least one.
    public static let maxTenantBytes = 64
    /// Entries of `labels`.
    public static let maxLabels = 64
    /// Bytes of one label key (UTF-8); at least one.
    public static let maxLabelKeyBytes = 128
    /// Bytes of one label value (UTF-8).
    public static let maxLabelValueBytes = 4096
    /// Bytes of all label keys and values together.
    public static let maxLabelBytesTotal = 16 * 1024
    /// Arguments of `command` (the program included).
    public static let maxCommandArguments = 1024
    /// Bytes of one argument of `command` (UTF-8); the first, the program, at least one.
    public static let maxCommandArgumentBytes = 4096
    /// Bytes of all arguments of `command` together.
    public static let maxCommandBytesTotal = 64 * 1024
    /// Entries of `environment`.
    public static let maxEnvironmentEntries = 256
    /// Bytes of all `environment` keys and values together. A key has at least one byte and no
    /// `=`; neither a key nor a value (nor an argument of `command`) may hold a NUL byte, which
    /// exec cannot carry.
    public static let maxEnvironmentBytesTotal = 64 * 1024
    /// Bytes of `workingDirectory`, an absolute path without NUL (Linux's PATH_MAX, with its NUL).
    public static let maxWorkingDirectoryBytes = 4095
    /// `deadline`, `notBefore`, `notAfter`: from 2000-01-01T00:00:00Z (inclusive) to
    /// 2200-01-01T00:00:00Z (exclusive). Any instant in it plus any allowed duration is far from
    /// `Instant`'s range, and none of it is a date a real job could mean by accident.
    public static let times = Instant(microseconds: 946_684_800_000_000)..<Instant(microseconds: 7_258_118_400_000_000)
    /// The largest `[settings] max_duration_seconds` a configuration may set: ten years.
    public static let maxDurationCeiling = 10 * 365 * 86_400.0
    /// The default `[settings] max_duration_seconds`: 31 days.
    public static let defaultMaxDuration = 31 * 86_400.0
    /// Jobs in one `SubmitBatch`.
    public static let maxBatchJobs = 100_000
}
