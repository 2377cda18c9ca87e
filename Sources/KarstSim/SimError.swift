/// Why the simulator could not do what it was asked.
public enum SimError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A bad option value or argument.
    case usage(String)
    /// A trace could not be read.
    case trace(String)

    public var description: String {
        switch self {
        case .usage(let m), .trace(let m): m
        }
    }
}
