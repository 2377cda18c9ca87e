import CSystemd
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// A swift-log handler that writes structured entries to journald (sd_journal_sendv(3)):
/// `MESSAGE`, `PRIORITY` from the level, `SYSLOG_IDENTIFIER`, `CODE_FILE/LINE/FUNC` from the call
/// site, and every metadata key as an upper-case `KARST_` field (`job_id` → `KARST_JOB_ID`).
/// Job events carry a stable `MESSAGE_ID` (see `Deploy/karstd.catalog`), so `journalctl -x`
/// explains them. Never throws or blocks the caller beyond the datagram send.
public struct JournaldLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    let identifier: String

    public init(identifier: String = "karstd", level: Logger.Level = .info) {
        self.identifier = identifier
        self.logLevel = level
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// The `--log-target` values: `auto` (the journal when stderr is connected to it), `journal`,
    /// `stderr`.
    public static let targets = ["auto", "journal", "stderr"]

    /// Bootstraps swift-log for a daemon: native journal entries under `identifier` for target
    /// `journal` (or `auto` with stderr connected to the journal), plain lines on stderr otherwise.
    public static func bootstrap(identifier: String, target: String, level: Logger.Level) {
        let toJournal = target == "journal" || (target == "auto" && stderrIsJournal)
        LoggingSystem.bootstrap { label in
            if toJournal { return JournaldLogHandler(identifier: identifier, level: level) }
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }

    /// True when stderr is connected to the journal (systemd sets `JOURNAL_STREAM` to its
    /// device and inode): then native entries replace plain lines.
    public static var stderrIsJournal: Bool {
        guard let env = getenv("JOURNAL_STREAM") else { return false }
        let parts = String(cString: env).split(separator: ":")
        guard parts.count == 2, let dev = UInt64(parts[0]), let ino = UInt64(parts[1]) else { return false }
        var st = stat()
        guard fstat(2, &st) == 0 else { return false }
        return UInt64(st.st_dev) == dev && UInt64(st.st_ino) == ino
    }

    public func log(event: LogEvent) {
        var fields: [String] = [
            "MESSAGE=\(event.message)",
            "PRIORITY=\(Self.priority(event.level))",
            "SYSLOG_IDENTIFIER=\(identifier)",
            "CODE_FILE=\(event.file)",
            "CODE_LINE=\(event.line)",
            "CODE_FUNC=\(event.function)",
        ]
        var all = metadata
        if let extra = event.metadata { all.merge(extra) { _, new in new } }
        for (key, value) in all {
            fields.append("\(Self.fieldName(key))=\(value)")
        }
        if case .string(let kind)? = all["event"], let id = JobEventMessageID.ids[kind] {
            fields.append("MESSAGE_ID=\(id)")
        }
        Self.send(fields)
    }

    /// journald's field names: upper case letters, digits and underscores, not starting with an
    /// underscore (those are trusted fields).
    static func fieldName(_ key: String) -> String {
        let mapped = key.uppercased().map { c -> Character in (c.isASCII && (c.isLetter || c.isNumber)) ? c : "_" }
        return "KARST_" + String(mapped)
    }

    static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }

    /// One datagram: every field an iovec into one contiguous buffer.
    static func send(_ fields: [String]) {
        var bytes: [UInt8] = []
        var ranges: [(Int, Int)] = []
        for f in fields {
            let start = bytes.count
            bytes.append(contentsOf: f.utf8)
            ranges.append((start, bytes.count - start))
        }
        bytes.withUnsafeMutableBufferPointer { buffer in
            var iov = ranges.map { iovec(iov_base: UnsafeMutableRawPointer(buffer.baseAddress! + $0.0), iov_len: $0.1) }
            _ = iov.withUnsafeMutableBufferPointer { sd_journal_sendv($0.baseAddress, Int32($0.count)) }
        }
    }
}

/// Stable journal `MESSAGE_ID`s of job events, one per kind (documented in Deploy/karstd.catalog).
public enum JobEventMessageID {
    public static let ids: [String: String] = [
        "submitted": "6c0a3f7e2d8b4a1f9e5c7b3d1a2f4e60",
        "placed": "6c0a3f7e2d8b4a1f9e5c7b3d1a2f4e61",
        "preempted": "6c0a3f7e2d8b4a1f9e5c7b3d1a2f4e62",
        "requeued": "6c0a3f7e2d8b4a1f9e5c7b3d1a2f4e63",
        "succeeded": "6c0a3f7e2d8b4a1f9e5c7b3d1a2f4e64",
        "failed": "6c0a3f7e2d8b4a1f9e5c7b3d1a2f4e65",
        "cancelled": "6c0a3f7e2d8b4a1f9e5c7b3d1a2f4e66",
        "held": "6c0a3f7e2d8b4a1f9e5c7b3d1a2f4e67",
        "released": "6c0a3f7e2d8b4a1f9e5c7b3d1a2f4e68",
        "deadline-missed": "6c0a3f7e2d8b4a1f9e5c7b3d1a2f4e69",
        "started": "6c0a3f7e2d8b4a1f9e5c7b3d1a2f4e6a",
        "stopping": "6c0a3f7e2d8b4a1f9e5c7b3d1a2f4e6b",
    ]
}
