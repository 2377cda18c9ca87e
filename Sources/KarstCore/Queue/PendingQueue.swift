import HeapModule

/// The pending queue: which waiting job is considered next.
///
/// Order, from the outside in:
/// 1. **Class**: strictly by class index (0 is the highest class).
/// 2. **Tenant**: among tenants with work in that class, the one with the lowest weighted dominant
///    share (DRF) goes first; the share is a function passed to `popNext`, so the queue knows
///    nothing of data centres or capacity. Equal shares fall through to the heads' ranks.
/// 3. **Job**: inside a tenant, lowest `QueueEntry` (priority + aging, then job id).
///
/// Each (class, tenant) pair has its own binary heap. Removal is lazy: the membership table drops
/// the job and the heap copy is discarded when it reaches the top (or at compaction, when stale
/// copies outnumber live ones). Insert, pop and remove are O(log n); choosing the tenant is O(T)
/// in the number of tenants with waiting work in the top class.
///
/// A job can be **parked** until an instant: it stays queued (counted, `contains`, keeps its
/// rank) but `popNext` does not offer it until `unpark(through:)` reaches that instant (or
/// `unparkAll()`). The pass parks jobs that only the clock or a change of the hub can help: a
/// window not yet open, a time-shifted job until the next whole hour, a job whose every
/// possible data centre is offline or draining until one changes state. Otherwise every pass
/// would examine each of them again, and count each as a miss against its tenant.
public struct PendingQueue: Sendable {
    private struct Member: Sendable {
        var rank: Double
        var classIndex: Int32
        var tenantIndex: Int32
        var generation: UInt32
        var parked = false
    }

    /// A parked job and until when; stale when the member's generation moved on.
    private struct Parked: Comparable, Sendable {
        var until: Instant
        var id: JobID
        var generation: UInt32
        static func < (a: Parked, b: Parked) -> Bool { (a.until, a.id) < (b.until, b.id) }
        static func == (a: Parked, b: Parked) -> Bool { (a.until, a.id) == (b.until, b.id) }
    }

    private var heaps: [[Heap<QueueEntry>]]
    /// Per (class, tenant): whether the heap's top is known to be live, so that choosing among
    /// tenants, which looks at every head for every pop, need not look each up again.
    private var headLive: [[Bool]]
    private var live: [[Int]]
    /// Per class: tenants with live entries, in first-seen order (deterministic scans).
    private var activeTenants: [[Int]]
    private var members = JobTable<Member>()
    private var staleCount = 0
    private var nextGeneration: UInt32 = 0
    private var parked = Heap<Parked>()
    private var parkedByClass: [Int]

    public init(classCount: Int) {
        parkedByClass = Array(repeating: 0, count: classCount)
        heaps = Array(repeating: [], count: classCount)
        headLive = Array(repeating: [], count: classCount)
        live = Array(repeating: [], count: classCount)
        activeTenants = Array(repeating: [], count: classCount)
    }

    /// Number of queued jobs (parked ones included).
    public var count: Int { members.count }
    public var isEmpty: Bool { members.isEmpty }

    /// Number of parked jobs.
    public var parkedCount: Int { parkedByClass.reduce(0, +) }

    /// Whether `id` is queued (parked or not).
    public func contains(_ id: JobID) -> Bool { members[id] != nil }

    /// Whether `id` is queued and in line (not parked).
    public func isInLine(_ id: JobID) -> Bool { members[id].map { !$0.parked } ?? false }

    /// Number of queued jobs per class index (parked ones included).
    public var countByClass: [Int] { zip(live, parkedByClass).map { $0.reduce(0, +) + $1 } }

    /// Queues a job. A job already queued is moved to the new rank.
    public mutating func insert(_ id: JobID, rank: Double, classIndex: Int, tenantIndex: Int) {
        if members[id] != nil { remove(id) }
        nextGeneration &+= 1
        let member = Member(rank: rank, classIndex: Int32(classIndex), tenantIndex: Int32(tenantIndex),
                            generation: nextGeneration)
        members[id] = member
        push(QueueEntry(rank: rank, id: id, classIndex: member.classIndex, tenantIndex: member.tenantIndex,
                        generation: nextGeneration))
    }

    /// Removes a queued job; false when it was not queued.
    @discardableResult
    public mutating func remove(_ id: JobID) -> Bool {
        guard let m = members.removeValue(forKey: id) else { return false }
        leave(m)
        if staleCount > 1024 && staleCount > members.count { compact() }
        return true
    }

    /// Parks a queued job until `until`; false when it is not queued or already parked.
    @discardableResult
    public mutating func park(_ id: JobID, until: Instant) -> Bool {
        guard var m = members[id], !m.parked else { return false }
        leave(m)
        nextGeneration &+= 1
        m.generation = nextGeneration
        m.parked = true
        members[id] = m
        parked.insert(Parked(until: until, id: id, generation: m.generation))
        parkedByClass[Int(m.classIndex)] += 1
        return true
    }

    /// Puts every job parked until `now` or earlier back in line, at its rank.
    public mutating func unpark(through now: Instant) {
        while let top = parked.min, top.until <= now {
            parked.removeMin()
            guard var m = members[top.id], m.parked, m.generation == top.generation else { continue }
            parkedByClass[Int(m.classIndex)] -= 1
            nextGeneration &+= 1
            m.generation = nextGeneration
            m.parked = false
            members[top.id] = m
            push(QueueEntry(rank: m.rank, id: top.id, classIndex: m.classIndex, tenantIndex: m.tenantIndex,
                            generation: m.generation))
        }
    }

    /// Puts every parked job back in line (the hub changed: what was parked until it does, or
    /// until a time, is judged again).
    public mutating func unparkAll() {
        guard let last = parked.max?.until else { return }
        unpark(through: last)
    }

    /// Takes the next job out of the queue, choosing among tenants by `share` (lower first) and
    /// passing over (class, tenant) pairs for which `skip` is true. Put entries back with
    /// `restore(_:)`.
    public mutating func popNext(skip: (_ classIndex: Int, _ tenant: Int) -> Bool = { _, _ in false },
                                 share: (Int) -> Double) -> QueueEntry? {
        for c in heaps.indices where !activeTenants[c].isEmpty {
            var best = -1
            var bestShare = 0.0
            var bestHead: QueueEntry? = nil
            for t in activeTenants[c] where !skip(c, t) {
                guard let head = cleanHead(c, t) else { continue }
                let s = share(t)
                if best < 0 || s < bestShare || (s == bestShare && head < bestHead!) {
                    best = t
                    bestShare = s
                    bestHead = head
                }
            }
            guard best >= 0 else { continue }
            let entry = heaps[c][best].removeMin()
            headLive[c][best] = false
            members[entry.id] = nil
            decrementLive(c, best)
            return entry
        }
        return nil
    }

    /// Takes one particular job out of the queue (to examine it out of turn, e.g. for its
    /// deadline); put it back with `restore(_:)`. Its old heap copy turns stale: the entry
    /// returned carries a fresh generation.
    public mutating func take(_ id: JobID) -> QueueEntry? {
        guard let m = members.removeValue(forKey: id) else { return nil }
        leave(m)
        nextGeneration &+= 1
        return QueueEntry(rank: m.rank, id: id, classIndex: m.classIndex, tenantIndex: m.tenantIndex,
                          generation: nextGeneration)
    }

    /// The highest class (lowest index) with queued jobs.
    public var firstActiveClass: Int? { activeTenants.indices.first { !activeTenants[$0].isEmpty } }

    /// Puts back entries taken by `popNext` (same rank and tie-break as before).
    public mutating func restore(_ entries: [QueueEntry]) {
        for e in entries {
            guard members[e.id] == nil else { continue }
            members[e.id] = Member(rank: e.rank, classIndex: e.classIndex, tenantIndex: e.tenantIndex,
                                   generation: e.generation)
            push(e)
        }
    }

    /// Every live entry, unordered (for views and recovery checks).
    public var allEntries: [QueueEntry] {
        var out: [QueueEntry] = []
        members.forEach { id, m in
            out.append(QueueEntry(rank: m.rank, id: id, classIndex: m.classIndex, tenantIndex: m.tenantIndex,
                                  generation: m.generation))
        }
        return out
    }

    // MARK: - Internals

    private mutating func push(_ e: QueueEntry) {
        let c = Int(e.classIndex), t = Int(e.tenantIndex)
        if heaps[c].count <= t {
            heaps[c].append(contentsOf: repeatElement(Heap<QueueEntry>(), count: t + 1 - heaps[c].count))
            live[c].append(contentsOf: repeatElement(0, count: t + 1 - live[c].count))
            headLive[c].append(contentsOf: repeatElement(false, count: t + 1 - headLive[c].count))
        }
        // A live entry that becomes the top makes the top live; otherwise the top is unchanged.
        if heaps[c][t].min.map({ e < $0 }) ?? true { headLive[c][t] = true }
        heaps[c][t].insert(e)
        if live[c][t] == 0 { activeTenants[c].append(t) }
        live[c][t] += 1
    }

    /// Accounts for a member leaving its place: in line, its heap copy turns stale; parked, its
    /// parking entry does (dropped when it comes due).
    private mutating func leave(_ m: Member) {
        let c = Int(m.classIndex), t = Int(m.tenantIndex)
        if m.parked {
            parkedByClass[c] -= 1
        } else {
            decrementLive(c, t)
            headLive[c][t] = false
            staleCount += 1
        }
    }

    private mutating func decrementLive(_ c: Int, _ t: Int) {
        live[c][t] -= 1
        if live[c][t] == 0, let i = activeTenants[c].firstIndex(of: t) { activeTenants[c].remove(at: i) }
    }

    /// Drops stale copies from the top of one heap and returns the live head.
    private mutating func cleanHead(_ c: Int, _ t: Int) -> QueueEntry? {
        if headLive[c][t] { return heaps[c][t].min }
        while let top = heaps[c][t].min {
            if let m = members[top.id], m.generation == top.generation {
                headLive[c][t] = true
                return top
            }
            heaps[c][t].removeMin()
            staleCount -= 1
        }
        return nil
    }

    /// Rebuilds every heap from the membership table, dropping all stale copies.
    private mutating func compact() {
        var fresh: [[[QueueEntry]]] = heaps.map { Array(repeating: [], count: $0.count) }
        members.forEach { id, m in
            guard !m.parked else { return }
            fresh[Int(m.classIndex)][Int(m.tenantIndex)].append(
                QueueEntry(rank: m.rank, id: id, classIndex: m.classIndex, tenantIndex: m.tenantIndex,
                           generation: m.generation))
        }
        for c in heaps.indices {
            for t in heaps[c].indices {
                heaps[c][t] = Heap(fresh[c][t])
                headLive[c][t] = true
            }
        }
        staleCount = 0
        members.releaseEmptyPages()
    }
}
