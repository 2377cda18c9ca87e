/// One thing wrong with a configuration file, at a key path such as
/// `datacenters[2].pools[0].cpu`.
public struct ConfigIssue: Hashable, Sendable, CustomStringConvertible {
    public var path: String
    public var message: String

    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { path.isEmpty ? message : "\(path): \(message)" }
}

/// A configuration that cannot be used, with every issue found (not just the first).
public struct ConfigError: Error, Sendable, CustomStringConvertible {
    /// Where the configuration came from (a file path, or `built-in`).
    public var source: String
    public var issues: [ConfigIssue]

    public init(source: String, issues: [ConfigIssue]) {
        self.source = source
        self.issues = issues
    }

    public var description: String {
        "\(source): \(issues.count) error\(issues.count == 1 ? "" : "s")\n"
            + issues.map { "  \($0)" }.joined(separator: "\n")
    }
}
