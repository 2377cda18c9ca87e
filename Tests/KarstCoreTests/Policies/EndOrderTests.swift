@testable import KarstCore
import Testing

/// The running jobs of a pool by expected end, and the backfill profile that walks them.
@Suite struct EndOrderTests {
    static func at(_ s: Int64) -> Instant { Instant(microseconds: s * 1_000_000) }

    /// Inserts and removes at random, past several block splits, against a sorted array.
    @Test(arguments: [1, 2, 3] as [UInt64])
    func matchesASortedArray(seed: UInt64) {
        var rng = SeededRandom(seed: seed)
        var order = EndOrder()
        var model: [(at: Instant, job: JobID)] = []
        var next: UInt64 = 1
        for step in 0..<12_000 {
            if model.isEmpty || rng.next() % 3 != 0 {
                // Few distinct times, so that many entries share an end and sort by job.
                let e = EndOrder.Entry(at: Self.at(Int64(rng.next() % 500)), job: JobID(next), amount: .zero)
                next += 1
                order.insert(e)
                model.append((e.at, e.job))
            } else {
                let i = Int(rng.next() % UInt64(model.count))
                let removed = order.remove(at: model[i].at, job: model[i].job)
                #expect(removed)
                model.remove(at: i)
            }
            if step % 1000 == 0 || step == 11_999 {
                model.sort { ($0.at, $0.job) < ($1.at, $1.job) }
                #expect(order.entries.map(\.job) == model.map(\.job))
                #expect(order.count == model.count)
                #expect(order.blocks.allSatisfy { !$0.isEmpty && $0.count <= EndOrder.maxBlock })
            }
        }
        #expect(order.blocks.count > 4, "the test should exercise block splits")
        let removedAbsent = order.remove(at: Self.at(9999), job: JobID(1))
        #expect(!removedAbsent)
    }

    /// A profile over an end order answers earliest starts like a brute force over every
    /// release, with evicted jobs skipped and the pass's own placements added.
    @Test(arguments: [7, 8, 9] as [UInt64])
    func profileMatchesABruteForce(seed: UInt64) {
        var rng = SeededRandom(seed: seed)
        let now = Self.at(1000)
        for _ in 0..<200 {
            var order = EndOrder()
            var releases: [Release] = []
            var skipping = Set<JobID>()
            for j in 0..<Int(rng.next() % 40) {
                let amount = Resources(milliCPU: Int64(rng.next() % 4 + 1) * 1000, memoryMiB: 0)
                let e = EndOrder.Entry(at: Self.at(900 + Int64(rng.next() % 600)), job: JobID(UInt64(j + 1)), amount: amount)
                order.insert(e)
                if rng.next() % 5 == 0 { skipping.insert(e.job) } else { releases.append(Release(at: e.at, amount: amount)) }
            }
            let placed = (0..<Int(rng.next() % 4)).map { _ in
                Release(at: Self.at(1000 + Int64(rng.next() % 400)), amount: Resources(milliCPU: 1000, memoryMiB: 0))
            }
            releases += placed
            let free = Resources(milliCPU: Int64(rng.next() % 3) * 1000, memoryMiB: 0)
            var profile = AvailabilityProfile(now: now, free: free, running: order, skipping: skipping, placed: placed)
            // A reservation earlier in the pass: capacity taken over [from, until).
            let reserved = Resources(milliCPU: Int64(rng.next() % 3) * 1000, memoryMiB: 0)
            let from = Self.at(1000 + Int64(rng.next() % 300)), until = from.advanced(bySeconds: Double(rng.next() % 400 + 1))
            if free.milliCPU >= reserved.milliCPU { profile.subtract(reserved, from: from, until: until) }
            let taken = free.milliCPU >= reserved.milliCPU ? (reserved, from, until) : (.zero, from, until)
            let demand = Resources(milliCPU: Int64(rng.next() % 12 + 1) * 1000, memoryMiB: 0)
            let seconds = Double(rng.next() % 300 + 1)
            let start = profile.earliestStart(demand, seconds: seconds)
            #expect(start == Self.bruteEarliestStart(now: now, free: free, releases: releases, reserved: taken, demand, seconds: seconds))
        }
    }

    /// Free capacity at `t` is `free` plus every release at or before `t` (past ones count now),
    /// less what is reserved over [from, until).
    static func bruteEarliestStart(now: Instant, free: Resources, releases: [Release],
                                   reserved: (Resources, Instant, Instant), _ demand: Resources,
                                   seconds: Double) -> Instant? {
        let (amount, from, until) = reserved
        func freeAt(_ t: Instant) -> Resources {
            let released = releases.filter { $0.at <= t }.reduce(free) { $0 + $1.amount }
            return from <= t && t < until ? released - amount : released
        }
        let changes = releases.map(\.at) + [from, until]
        let starts = ([now] + changes.filter { $0 > now }).sorted()
        for s in starts {
            let end = s.advanced(bySeconds: seconds)
            let checks = [s] + changes.filter { $0 > s && $0 < end }
            if checks.allSatisfy({ demand.fits(in: freeAt($0)) }) { return s }
        }
        return nil
    }
}
