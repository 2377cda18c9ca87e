@testable import KarstServer
import Testing

/// Callers are resolved from the password and group databases once per `lifetime`, not at every
/// connection; the memory is bounded.
@Suite struct RecentCallersTests {
    @Test func anIdentityIsResolvedOncePerLifetime() {
        let recent = RecentCallers()
        var lookups = 0
        func ask(_ uid: UInt32, at now: Double) -> String {
            recent.identity(uid: uid, gid: 100, now: now) {
                lookups += 1
                return ("user\(uid)-\(lookups)", [100])
            }.user
        }
        #expect(ask(1000, at: 0) == "user1000-1")
        #expect(ask(1000, at: RecentCallers.lifetime - 0.1) == "user1000-1")
        #expect(lookups == 1)
        #expect(ask(1001, at: 1) == "user1001-2")
        // Expired: looked up again (a changed group membership is seen).
        #expect(ask(1000, at: RecentCallers.lifetime + 0.1) == "user1000-3")
        #expect(lookups == 3)
    }

    @Test func itHoldsAtMostItsCapacity() {
        let recent = RecentCallers()
        var lookups = 0
        for uid in 0..<UInt32(3 * RecentCallers.capacity) {
            _ = recent.identity(uid: uid, gid: 0, now: 0) { lookups += 1; return ("u", []) }
        }
        #expect(recent.count <= RecentCallers.capacity)
        #expect(lookups == 3 * RecentCallers.capacity)
    }
}
