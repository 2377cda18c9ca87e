import KarstCore
import KarstTesting
import Testing

/// Quotas as guarantees, with borrowing of idle capacity and reclaim.
@Suite struct QuotaTests {
    /// 32 cores; "owner" is guaranteed 16, "guest" has no quota.
    static func hub(borrowLimit: Resources? = nil) -> Topology {
        TopologyBuilder().datacenter("a", pools: [("cpu", 32, 1000, 0, nil)])
            .tenant("owner", quota: Resources(cpu: 16, memoryGiB: 1000), borrowLimit: borrowLimit)
            .topology
    }

    @Test("idle capacity above the quota is borrowed; the owner reclaims it by preemption")
    func borrowAndReclaim() throws {
        var h = ScenarioHarness(Self.hub())
        let guest = try (0..<4).map { _ in try h.submit(.job().tenant("guest").class("batch").cpu(8).lasting(10_000)) }
        h.tick()
        #expect(guest.allSatisfy { h.job($0)?.state == .running && h.job($0)?.borrowed == true })
        // The owner, within its quota, asks for 16 cores: two guest jobs are evicted.
        let own = try h.submit(.job().tenant("owner").class("batch").cpu(16).lasting(100))
        let preempted = h.tick().filter { $0.kind == .preempted }
        #expect(preempted.count == 2)
        #expect(h.job(own)?.state == .running)
        #expect(h.job(own)?.borrowed == false)
        // Above its quota the owner borrows like anyone, and reclaims nothing.
        let more = try h.submit(.job().tenant("owner").class("batch").cpu(8).lasting(100))
        #expect(h.tick().allSatisfy { $0.kind != .preempted })
        #expect(h.job(more)?.state == .pending)
        #expect(h.capacityViolation() == nil)
    }

    @Test("reclaim takes only borrowed, preemptible work")
    func reclaimTakesOnlyBorrowedPreemptible() throws {
        var h = ScenarioHarness(Self.hub())
        try h.submit(.job().tenant("guest").class("batch").cpu(32).preemptible(false).lasting(10_000))
        h.tick()
        let own = try h.submit(.job().tenant("owner").class("batch").cpu(16).lasting(100))
        #expect(h.tick().allSatisfy { $0.kind != .preempted })
        #expect(h.job(own)?.state == .pending)
    }

    @Test("a borrow limit caps what a tenant may hold; all zero makes the quota a hard cap")
    func borrowLimit() throws {
        var h = ScenarioHarness(Self.hub(borrowLimit: Resources(cpu: 4, memoryGiB: 0)))
        let a = try h.submit(.job().tenant("owner").class("batch").cpu(16).lasting(100))
        let b = try h.submit(.job().tenant("owner").class("batch").cpu(4).lasting(100))
        let c = try h.submit(.job().tenant("owner").class("batch").cpu(1).lasting(100))
        h.tick()
        #expect(h.job(a)?.state == .running)
        #expect(h.job(b)?.state == .running)
        #expect(h.job(b)?.borrowed == true)
        #expect(h.job(c)?.pendingReason == .quota(resource: "cpu"))
        #expect(throws: SchedulerError.quotaExceeded(tenant: "owner", resource: "cpu")) {
            try h.submit(.job().tenant("owner").class("batch").cpu(21))
        }
    }
}
