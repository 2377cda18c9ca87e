import KarstConfig
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Turns peer credentials into a `Caller` with roles, from the `[access]` groups.
///
/// Group names are resolved to ids once, when the policy is built; `unknownGroups` lists names
/// that do not exist on this system (they grant nothing). Membership counts the user's primary
/// group and its supplementary groups (`getgrouplist`).
public struct AccessPolicy: Sendable {
    public let settings: AccessSettings
    private let adminGIDs: Set<UInt32>
    private let submitGIDs: Set<UInt32>
    private let executorGIDs: Set<UInt32>
    public let unknownGroups: [String]
    /// Who each recent (uid, gid) is: a connection costs no password and group file reads.
    private let recent = RecentCallers()

    public init(_ settings: AccessSettings) {
        self.settings = settings
        var unknown: [String] = []
        func resolve(_ names: [String]) -> Set<UInt32> {
            Set(names.compactMap { name in
                if let gid = groupID(named: name) { return gid }
                unknown.append(name)
                return nil
            })
        }
        adminGIDs = resolve(settings.adminGroups)
        submitGIDs = resolve(settings.submitGroups)
        executorGIDs = resolve(settings.executorGroups)
        unknownGroups = unknown
    }

    /// The caller behind these credentials.
    public func caller(pid: Int32, uid: UInt32, gid: UInt32) -> Caller {
        let (user, groups) = recent.identity(uid: uid, gid: gid, now: ScaledWallClock.monotonicSeconds()) {
            let user = userName(uid: uid) ?? String(uid)
            return (user, Set(groupList(user: user, primary: gid)).union([gid]))
        }
        let isAdmin = uid == 0 || !groups.isDisjoint(with: adminGIDs)
        let canSubmit = settings.submitGroups.isEmpty || !groups.isDisjoint(with: submitGIDs)
        let canExecute = !groups.isDisjoint(with: executorGIDs)
        return Caller(pid: pid, uid: uid, gid: gid, user: user, isAdmin: isAdmin, canSubmit: canSubmit,
                      canExecute: canExecute)
    }
}

/// The id of a group, or nil.
func groupID(named name: String) -> UInt32? {
    var group = group()
    var result: UnsafeMutablePointer<group>? = nil
    var buffer = [CChar](repeating: 0, count: 16_384)
    guard getgrnam_r(name, &group, &buffer, buffer.count, &result) == 0, result != nil else { return nil }
    return group.gr_gid
}

/// The user name of a uid, or nil.
func userName(uid: UInt32) -> String? {
    var pw = passwd()
    var result: UnsafeMutablePointer<passwd>? = nil
    var buffer = [CChar](repeating: 0, count: 16_384)
    guard getpwuid_r(uid, &pw, &buffer, buffer.count, &result) == 0, result != nil, let name = pw.pw_name else {
        return nil
    }
    return String(cString: name)
}

/// The groups `user` belongs to.
func groupList(user: String, primary: UInt32) -> [UInt32] {
    var count: Int32 = 64
    var groups = [gid_t](repeating: 0, count: Int(count))
    if getgrouplist(user, primary, &groups, &count) < 0 {
        groups = [gid_t](repeating: 0, count: Int(count))
        guard getgrouplist(user, primary, &groups, &count) >= 0 else { return [primary] }
    }
    return Array(groups.prefix(Int(count)))
}

/// The user names and groups of recent callers, for `RecentCallers.lifetime` seconds.
///
/// Every connection is a caller to resolve, and resolving reads the password and group
/// databases (two files here; a directory service elsewhere), on the connection's event loop:
/// a shell loop of `karstctl submit` paid for both at every call. A change of a user's groups
/// reaches new connections within the lifetime; a reload (new policy) starts afresh.
///
/// Bounded: at most `capacity` identities; when full, the expired go, then all.
final class RecentCallers: Sendable {
    static let lifetime = 30.0
    static let capacity = 1024

    private struct Key: Hashable { var uid: UInt32, gid: UInt32 }
    private struct Entry { var user: String, groups: Set<UInt32>, expires: Double }
    private let entries = Mutex<[Key: Entry]>([:])

    /// How many identities are remembered.
    var count: Int { entries.withLock { $0.count } }

    /// The identity of (uid, gid): remembered if fresh, else from `resolve` (called without the
    /// lock held) and remembered.
    func identity(uid: UInt32, gid: UInt32, now: Double,
                  resolve: () -> (String, Set<UInt32>)) -> (user: String, groups: Set<UInt32>) {
        let key = Key(uid: uid, gid: gid)
        if let e = entries.withLock({ $0[key] }), e.expires > now { return (e.user, e.groups) }
        let (user, groups) = resolve()
        entries.withLock { entries in
            if entries.count >= Self.capacity {
                entries = entries.filter { $0.value.expires > now }
                if entries.count >= Self.capacity { entries.removeAll(keepingCapacity: true) }
            }
            entries[key] = Entry(user: user, groups: groups, expires: now + Self.lifetime)
        }
        return (user, groups)
    }
}
