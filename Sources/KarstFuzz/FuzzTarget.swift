/// One in-process fuzz target: a function of arbitrary bytes that must never trap and checks its
/// own properties (a broken property is a `fatalError`, which libFuzzer records as a crash).
///
/// Targets run under libFuzzer (`make fuzz`, `karst-fuzz TARGET` built with
/// `-sanitize=fuzzer,address`), and replay committed inputs in the ordinary test suite.
public struct FuzzTarget: Sendable {
    public let name: String
    public let summary: String
    public let run: @Sendable (UnsafeBufferPointer<UInt8>) -> Void

    public init(name: String, summary: String, run: @escaping @Sendable (UnsafeBufferPointer<UInt8>) -> Void) {
        self.name = name
        self.summary = summary
        self.run = run
    }

    /// Every target, by name.
    public static let all: [FuzzTarget] = [.frames, .json, .calls, .pipeline]

    public static func named(_ name: String) -> FuzzTarget? { all.first { $0.name == name } }

    /// Runs the target on `bytes` (for replaying files and tests).
    public func callAsFunction(_ bytes: [UInt8]) { bytes.withUnsafeBufferPointer { run($0) } }
}
