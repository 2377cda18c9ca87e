import KarstCore
import Testing

@Suite struct PendingQueueTests {
    let ordering = QueueOrdering(agingPerSecond: [0, 10.0 / 3600])
    let t0 = Instant(rfc3339: "2026-07-01T00:00:00Z")!

    func drain(_ q: inout PendingQueue, share: (Int) -> Double = { _ in 0 }) -> [UInt64] {
        var out: [UInt64] = []
        while let e = q.popNext(share: share) { out.append(e.id.rawValue) }
        return out
    }

    @Test func classesAreStrictlyOrdered() {
        var q = PendingQueue(classCount: 2)
        q.insert(JobID(1), rank: ordering.rank(priority: 1000, submittedAt: t0, classIndex: 1), classIndex: 1, tenantIndex: 0)
        q.insert(JobID(2), rank: ordering.rank(priority: 0, submittedAt: t0, classIndex: 0), classIndex: 0, tenantIndex: 0)
        #expect(drain(&q) == [2, 1])
    }

    @Test func priorityThenFirstComeFirstServed() {
        var q = PendingQueue(classCount: 2)
        for (id, p) in [(1, 0), (2, 5), (3, 0), (4, 5)] {
            q.insert(JobID(UInt64(id)), rank: ordering.rank(priority: p, submittedAt: t0, classIndex: 0),
                     classIndex: 0, tenantIndex: 0)
        }
        #expect(drain(&q) == [2, 4, 1, 3])
    }

    @Test func agingLetsAnOldJobOvertakeAfterPriorityOverRate() {
        // 10 points per hour: a priority-0 job submitted at t0 ties a priority-5 job submitted at
        // t0 + 30 min, and beats any priority-5 job submitted later than that.
        let old = ordering.rank(priority: 0, submittedAt: t0, classIndex: 1)
        let before = ordering.rank(priority: 5, submittedAt: t0.advanced(bySeconds: 1790), classIndex: 1)
        let after = ordering.rank(priority: 5, submittedAt: t0.advanced(bySeconds: 1810), classIndex: 1)
        #expect(before < old)
        #expect(old < after)
    }

    @Test func removeIsImmediateAndStaleCopiesAreSkipped() {
        var q = PendingQueue(classCount: 1)
        for i in 1...5 { q.insert(JobID(UInt64(i)), rank: Double(i), classIndex: 0, tenantIndex: 0) }
        let removed = q.remove(JobID(2))
        let again = q.remove(JobID(2))
        #expect(removed && !again)
        q.insert(JobID(4), rank: 0, classIndex: 0, tenantIndex: 0)  // moved to the front
        #expect(q.count == 4)
        #expect(drain(&q) == [4, 1, 3, 5])
        #expect(q.isEmpty)
    }

    @Test func lowestWeightedShareTenantGoesFirst() {
        var q = PendingQueue(classCount: 1)
        q.insert(JobID(1), rank: 0, classIndex: 0, tenantIndex: 0)
        q.insert(JobID(2), rank: 1, classIndex: 0, tenantIndex: 1)
        // Tenant 0 already holds more: tenant 1's job goes first despite its worse rank.
        let shares = [0.5, 0.1]
        #expect(drain(&q, share: { shares[$0] }) == [2, 1])
    }

    @Test func restorePutsPoppedEntriesBackInTheSameOrder() {
        var q = PendingQueue(classCount: 1)
        for i in 1...6 { q.insert(JobID(UInt64(i)), rank: Double(7 - i), classIndex: 0, tenantIndex: i % 2) }
        var popped: [QueueEntry] = []
        for _ in 0..<3 { popped.append(q.popNext(share: { _ in 0 })!) }
        q.restore(popped)
        #expect(q.count == 6)
        #expect(drain(&q) == [6, 5, 4, 3, 2, 1])
    }

    /// Against a simple sorted-array model, under random inserts, removes and pops (with enough
    /// churn to trigger compaction).
    @Test(arguments: [1, 2, 3] as [UInt64])
    func matchesAReferenceModel(seed: UInt64) {
        var rng = SeededRandom(seed: seed)
        var q = PendingQueue(classCount: 3)
        var model: [JobID: (rank: Double, cls: Int)] = [:]
        var next: UInt64 = 1
        for _ in 0..<20_000 {
            let op = rng.next() % 10
            if op < 5 || model.isEmpty {
                let id = JobID(next); next += 1
                let rank = Double(rng.next() % 100), cls = Int(rng.next() % 3)
                q.insert(id, rank: rank, classIndex: cls, tenantIndex: 0)
                model[id] = (rank, cls)
            } else if op < 8 {
                let id = model.keys.sorted()[Int(rng.next() % UInt64(model.count))]
                let removed = q.remove(id)
                #expect(removed)
                model[id] = nil
            } else {
                let expected = model.min { a, b in
                    (a.value.cls, a.value.rank, a.key) < (b.value.cls, b.value.rank, b.key)
                }!.key
                let got = q.popNext(share: { _ in 0 })?.id
                #expect(got == expected)
                model[expected] = nil
            }
            #expect(q.count == model.count)
        }
    }

    /// Several tenants with fixed shares, jobs taken out of turn and put back (what a pass
    /// does), and jobs parked until a later tick: the tenant whose share is lowest goes first,
    /// ties to the better head, and a parked job is offered only once its time has come.
    @Test(arguments: [4, 5, 6] as [UInt64])
    func matchesAReferenceModelAcrossTenantsWithTakeRestoreAndParking(seed: UInt64) {
        var rng = SeededRandom(seed: seed)
        var q = PendingQueue(classCount: 2)
        let shares: [Double] = [0.3, 0.1, 0.1, 0.5]
        var model: [JobID: (rank: Double, cls: Int, tenant: Int, parkedUntil: Int64?)] = [:]
        var out: [QueueEntry] = []
        var next: UInt64 = 1
        var clock: Int64 = 0
        func expectedNext() -> JobID? {
            let inLine = model.filter { $0.value.parkedUntil == nil }
            guard let cls = inLine.values.map(\.cls).min() else { return nil }
            return inLine.filter { $0.value.cls == cls }.min { a, b in
                (shares[a.value.tenant], a.value.rank, a.key) < (shares[b.value.tenant], b.value.rank, b.key)
            }?.key
        }
        func anyID() -> JobID { model.keys.sorted()[Int(rng.next() % UInt64(model.count))] }
        for _ in 0..<4_000 {
            let op = rng.next() % 16
            if op < 5 || model.isEmpty {
                let id = JobID(next); next += 1
                let rank = Double(rng.next() % 50), cls = Int(rng.next() % 2), tenant = Int(rng.next() % 4)
                q.insert(id, rank: rank, classIndex: cls, tenantIndex: tenant)
                model[id] = (rank, cls, tenant, nil)
            } else if op < 7 {
                let id = anyID()
                let removed = q.remove(id)
                #expect(removed)
                model[id] = nil
            } else if op < 9 {
                let id = anyID()
                let e = q.take(id)
                #expect(e?.id == id)
                if let e { out.append(e) }
                model[id] = nil
            } else if op < 10 {
                for e in out { model[e.id] = (e.rank, Int(e.classIndex), Int(e.tenantIndex), nil) }
                q.restore(out)
                out.removeAll()
            } else if op < 12 {
                let id = anyID()
                let until = clock + Int64(rng.next() % 5 + 1)
                let parked = q.park(id, until: Instant(microseconds: until))
                #expect(parked == (model[id]!.parkedUntil == nil))
                if parked { model[id]!.parkedUntil = until }
            } else if op < 13 {
                clock += 1
                q.unpark(through: Instant(microseconds: clock))
                for (id, m) in model where (m.parkedUntil ?? .max) <= clock { model[id]!.parkedUntil = nil }
            } else {
                let expected = expectedNext()
                let got = q.popNext(share: { shares[$0] })
                #expect(got?.id == expected)
                if let got { out.append(got); model[got.id] = nil }
            }
            #expect(q.count == model.count)
            #expect(q.parkedCount == model.values.filter { $0.parkedUntil != nil }.count)
        }
    }
}

/// Regression: an id older than the pages a table keeps may come back (a requeued job rejoins
/// the queue after compaction dropped its page).
@Suite struct JobTableTests {
    @Test func anOldIdComesBackAfterItsPageWasDropped() {
        var t = JobTable<Int>()
        t[JobID(1)] = 1
        t[JobID(10_000)] = 2
        t[JobID(1)] = nil
        t.releaseEmptyPages()
        t[JobID(1)] = 3
        #expect(t.count == 2)
        #expect(t[JobID(1)] == 3)
        var seen: [UInt64] = []
        t.forEach { id, _ in seen.append(id.rawValue) }
        #expect(seen == [1, 10_000])
    }

    /// One old job held while ids run on must not pin every page after it: pages emptied in the
    /// middle give their memory back, and come back when an id in them does.
    @Test func emptiedPagesInTheMiddleAreReleased() {
        var t = JobTable<Int>()
        for i in 1...40_000 { t[JobID(UInt64(i))] = i }
        #expect(t.allocatedPages == 10)
        for i in 2...39_999 { t.removeValue(forKey: JobID(UInt64(i))) }
        t.releaseEmptyPages()
        #expect(t.allocatedPages == 2, "the first and the last page hold a job each")
        #expect(t[JobID(1)] == 1)
        #expect(t[JobID(40_000)] == 40_000)
        #expect(t[JobID(20_000)] == nil)
        #expect(t.count == 2)
        t[JobID(20_000)] = 7
        t.update(JobID(20_000)) { $0 += 1 }
        #expect(t[JobID(20_000)] == 8)
        #expect(t.count == 3)
        #expect(t.allocatedPages == 3)
        var seen: [UInt64] = []
        t.forEach { id, _ in seen.append(id.rawValue) }
        #expect(seen == [1, 20_000, 40_000])
        #expect(t.removeValue(forKey: JobID(30_000)) == nil)
        #expect(!t.update(JobID(30_000)) { $0 += 1 })
        // The values themselves were compacted once most of their store was free.
        #expect(t.storedSlots == 3)
    }

    /// Ids far apart cost a page of small indices each, not a page of values: a store of
    /// values reuses what removals freed.
    @Test func valuesAreStoredByLiveCountNotBySpan() {
        var t = JobTable<[Int]>()
        for round in 0..<20 {
            for i in 0..<100 { t[JobID(UInt64(round * 10_000 + i + 1))] = [round, i] }
            for i in 0..<100 where i != 0 { t.removeValue(forKey: JobID(UInt64(round * 10_000 + i + 1))) }
        }
        #expect(t.count == 20)
        #expect(t.storedSlots <= 120, "freed slots are reused: \(t.storedSlots)")
        #expect(t[JobID(190_001)] == [19, 0])
        var ids: [UInt64] = []
        t.forEach { id, _ in ids.append(id.rawValue) }
        let expected: [UInt64] = (0..<20).map { (r: Int) -> UInt64 in UInt64(r * 10_000 + 1) }
        #expect(ids == expected)
    }

    @Test func aQueueTakesBackAJobAfterCompaction() {
        var q = PendingQueue(classCount: 1)
        for i in 1...5000 { q.insert(JobID(UInt64(i)), rank: Double(i), classIndex: 0, tenantIndex: 0) }
        for i in 1...4999 { q.remove(JobID(UInt64(i))) }
        q.insert(JobID(1), rank: 0, classIndex: 0, tenantIndex: 0)
        #expect(q.popNext(share: { _ in 0 })?.id == JobID(1))
        #expect(q.popNext(share: { _ in 0 })?.id == JobID(5000))
    }
}
