/// Why the state store cannot do what was asked. Every case says what an operator can do.
public enum StoreError: Error, CustomStringConvertible, Sendable {
    /// The state directory cannot be created, opened or written.
    case unavailable(path: String, reason: String)
    /// The database was written by a newer Karst (it has schema migrations this version lacks).
    case newerSchema(path: String, unknown: [String])
    /// A stored row could not be read back.
    case corrupt(reason: String)
    /// A write failed (disk full, I/O error, read-only file system, …).
    case writeFailed(reason: String)
    /// This replica may not write: it does not hold the leader lease, or another replica has
    /// taken it over (PostgreSQL state shared by replicas).
    case fenced(reason: String)

    public var description: String {
        switch self {
        case .unavailable(let path, let reason): "state directory \(path) is unusable: \(reason)"
        case .newerSchema(let path, let unknown):
            "state in \(path) was written by a newer karstd (schema \(unknown.joined(separator: ", "))); "
                + "run that version, or restore a backup made by this one"
        case .corrupt(let reason): "stored state is damaged: \(reason); run karstd --check-state"
        case .writeFailed(let reason): "cannot write the state: \(reason)"
        case .fenced(let reason): "not the leader: \(reason)"
        }
    }
}
