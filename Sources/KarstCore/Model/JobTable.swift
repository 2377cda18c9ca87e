/// A map from job id to a value: pages of consecutive ids that hold small indices into one
/// contiguous store of values.
///
/// Job ids are handed out densely in submission order, so paged indices beat a hash table on
/// every count that matters for a million-job queue: no hashing on lookup, no rehash on growth.
/// Values live in `storage`, reused through a free list, so memory follows the live jobs: an id
/// span costs four bytes per id, not a value's few hundred, and one job held for a month pins
/// only its page of indices (16 KiB), not a page of values after it. A page whose ids are all
/// gone is released (`releaseEmptyPages`) and allocated again only if an id in it comes back.
public struct JobTable<Value: Sendable>: Sendable {
    static var pageBits: UInt64 { 12 }
    static var pageSize: Int { 1 << 12 }

    /// Per page, each slot's index into `storage` plus one (0: absent); `[]` for a released page.
    private var pages: [[UInt32]] = []
    /// Values present per page.
    private var live: [Int] = []
    /// Page number of `pages[0]`; pages before it were dropped by `releaseEmptyPages()`.
    private var firstPage: UInt64 = 0
    /// The values; a slot no page points at is nil and listed in `free`.
    private var storage: [Value?] = []
    private var free: [UInt32] = []
    public private(set) var count = 0

    public init() {}

    public var isEmpty: Bool { count == 0 }

    /// The page index and slot of `id`, or nil when its page is not kept.
    @inline(__always)
    private func locate(_ id: JobID) -> (page: Int, slot: Int)? {
        let page = id.rawValue >> Self.pageBits
        guard page >= firstPage, page - firstPage < UInt64(pages.count) else { return nil }
        let p = Int(page - firstPage)
        guard !pages[p].isEmpty else { return nil }
        return (p, Int(id.rawValue & UInt64(Self.pageSize - 1)))
    }

    /// `storage`'s index for `id`, or nil when absent.
    @inline(__always)
    private func index(_ id: JobID) -> Int? {
        guard let (p, slot) = locate(id) else { return nil }
        let k = pages[p][slot]
        return k == 0 ? nil : Int(k - 1)
    }

    public subscript(id: JobID) -> Value? {
        get { index(id).flatMap { storage[$0] } }
        set {
            guard let newValue else {
                removeValue(forKey: id)
                return
            }
            if let i = index(id) {
                // Moved out before the store: assigning over it compared nothing, but a read to
                // test it would have copied the whole value (a job is hundreds of bytes).
                _ = storage[i].take()
                storage[i] = newValue
                return
            }
            let p = allocatePage(of: id)
            let slot = Int(id.rawValue & UInt64(Self.pageSize - 1))
            let i: Int
            if let reused = free.popLast() {
                i = Int(reused)
                storage[i] = newValue
            } else {
                i = storage.count
                storage.append(newValue)
            }
            pages[p][slot] = UInt32(i + 1)
            live[p] += 1
            count += 1
        }
    }

    /// Makes room for `n` values in all: a restore of a million jobs grows the values once,
    /// where doubling would copy them about twenty times into freshly faulted pages.
    public mutating func reserveCapacity(_ n: Int) { storage.reserveCapacity(n) }

    /// The index in `pages` of `id`'s page, grown or re-allocated as needed.
    private mutating func allocatePage(of id: JobID) -> Int {
        let page = id.rawValue >> Self.pageBits
        if pages.isEmpty { firstPage = page }
        if page < firstPage {
            // An id older than the pages kept comes back (a requeued job re-enters the queue's
            // table after its page was dropped): grow at the front.
            let missing = Int(firstPage - page)
            pages.insert(contentsOf: repeatElement([], count: missing), at: 0)
            live.insert(contentsOf: repeatElement(0, count: missing), at: 0)
            firstPage = page
        }
        let p = Int(page - firstPage)
        while pages.count <= p { pages.append([]); live.append(0) }
        if pages[p].isEmpty { pages[p] = Array(repeating: 0, count: Self.pageSize) }
        return p
    }

    /// Changes a present value in place; returns false when absent.
    @discardableResult
    public mutating func update(_ id: JobID, _ change: (inout Value) -> Void) -> Bool {
        guard let i = index(id) else { return false }
        // Moved out and back (no copy of the value, no reference counting of its fields).
        guard var value = storage[i].take() else { return false }
        change(&value)
        storage[i] = value
        return true
    }

    /// Removes and returns the value for `id`.
    @discardableResult
    public mutating func removeValue(forKey id: JobID) -> Value? {
        guard let (p, slot) = locate(id) else { return nil }
        let k = pages[p][slot]
        guard k != 0 else { return nil }
        let i = Int(k - 1)
        let old = storage[i].take()
        pages[p][slot] = 0
        free.append(UInt32(i))
        live[p] -= 1
        count -= 1
        return old
    }

    /// Every present (id, value), in id order.
    public func forEach(_ body: (JobID, Value) throws -> Void) rethrows {
        for (p, page) in pages.enumerated() where live[p] > 0 {
            let base = (firstPage + UInt64(p)) << Self.pageBits
            for (slot, k) in page.enumerated() where k != 0 {
                try body(JobID(base + UInt64(slot)), storage[Int(k - 1)]!)
            }
        }
    }

    /// Every present value, in id order.
    public var values: [Value] {
        var out: [Value] = []
        out.reserveCapacity(count)
        forEach { _, v in out.append(v) }
        return out
    }

    /// Releases the pages that hold nothing any more (after old jobs were forgotten or left the
    /// queue): leading ones are dropped, the others keep their place but no memory. When most of
    /// the value store is free (a backlog drained), it is compacted in id order.
    public mutating func releaseEmptyPages() {
        var n = 0
        while n < pages.count - 1, live[n] == 0 { n += 1 }
        if n > 0 {
            pages.removeFirst(n)
            live.removeFirst(n)
            firstPage += UInt64(n)
        }
        for p in pages.indices where live[p] == 0 && !pages[p].isEmpty { pages[p] = [] }
        if free.count > Self.pageSize, free.count > storage.count / 2 { compact() }
    }

    /// Rebuilds `storage` with only the present values, in id order, and no free list.
    private mutating func compact() {
        var packed: [Value?] = []
        packed.reserveCapacity(count)
        for p in pages.indices where live[p] > 0 {
            for slot in pages[p].indices where pages[p][slot] != 0 {
                packed.append(storage[Int(pages[p][slot] - 1)].take())
                pages[p][slot] = UInt32(packed.count)
            }
        }
        storage = packed
        free = []
    }

    /// Pages of indices holding memory (for tests of `releaseEmptyPages`).
    public var allocatedPages: Int { pages.reduce(0) { $0 + ($1.isEmpty ? 0 : 1) } }
    /// Value slots held, present or free (for tests of the compaction).
    public var storedSlots: Int { storage.count }
}
