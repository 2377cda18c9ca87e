/// A map from job id to a value, stored in pages of consecutive ids.
///
/// Job ids are handed out densely in submission order, so a paged array beats a hash table on
/// every count that matters for a million-job queue: no hashing on lookup, no rehash on growth,
/// and at most one partly filled page of slack (a hash table keeps up to half its slots empty).
///
/// A page whose values are all gone is released (`releaseEmptyPages`) and allocated again only if
/// an id in it comes back, so memory follows the live jobs, not the span of ids since the oldest:
/// one job held for a month does not pin every page after it.
public struct JobTable<Value: Sendable>: Sendable {
    static var pageBits: UInt64 { 12 }
    static var pageSize: Int { 1 << 12 }

    /// Each page holds `pageSize` slots, or none when released (everything in it was removed).
    private var pages: [[Value?]] = []
    /// Values present per page.
    private var live: [Int] = []
    /// Page number of `pages[0]`; pages before it were dropped by `releaseEmptyPages()`.
    private var firstPage: UInt64 = 0
    public private(set) var count = 0

    public init() {}

    public var isEmpty: Bool { count == 0 }

    public subscript(id: JobID) -> Value? {
        get {
            let page = id.rawValue >> Self.pageBits
            guard page >= firstPage, page - firstPage < UInt64(pages.count) else { return nil }
            let p = Int(page - firstPage)
            guard !pages[p].isEmpty else { return nil }
            return pages[p][Int(id.rawValue & UInt64(Self.pageSize - 1))]
        }
        set {
            let page = id.rawValue >> Self.pageBits
            let slot = Int(id.rawValue & UInt64(Self.pageSize - 1))
            if page < firstPage {
                // An id older than the pages kept comes back (a requeued job re-enters the
                // queue's table after a compaction dropped its page): grow at the front.
                guard newValue != nil else { return }
                let missing = Int(firstPage - page)
                pages.insert(contentsOf: repeatElement([], count: missing), at: 0)
                live.insert(contentsOf: repeatElement(0, count: missing), at: 0)
                firstPage = page
            }
            let p = Int(page - firstPage)
            if p >= pages.count {
                guard newValue != nil else { return }
                while pages.count <= p { pages.append([]); live.append(0) }
            }
            if pages[p].isEmpty {
                guard newValue != nil else { return }
                pages[p] = Array(repeating: nil, count: Self.pageSize)
            }
            // Moved out, not compared in place: reading the slot to test it against nil copied
            // the whole value (a job is hundreds of bytes) on every store.
            let old = pages[p][slot].take()
            let change = (newValue != nil ? 1 : 0) - (old != nil ? 1 : 0)
            count += change
            live[p] += change
            pages[p][slot] = newValue
        }
    }

    /// Changes a present value in place; returns false when absent.
    @discardableResult
    public mutating func update(_ id: JobID, _ change: (inout Value) -> Void) -> Bool {
        let page = id.rawValue >> Self.pageBits
        guard page >= firstPage, page - firstPage < UInt64(pages.count) else { return false }
        let p = Int(page - firstPage), slot = Int(id.rawValue & UInt64(Self.pageSize - 1))
        guard !pages[p].isEmpty else { return false }
        // Moved out and back (no copy of the value, no reference counting of its fields).
        guard var value = pages[p][slot].take() else { return false }
        change(&value)
        pages[p][slot] = value
        return true
    }

    /// Removes and returns the value for `id`.
    @discardableResult
    public mutating func removeValue(forKey id: JobID) -> Value? {
        let page = id.rawValue >> Self.pageBits
        guard page >= firstPage, page - firstPage < UInt64(pages.count) else { return nil }
        let p = Int(page - firstPage)
        guard !pages[p].isEmpty else { return nil }
        let old = pages[p][Int(id.rawValue & UInt64(Self.pageSize - 1))].take()
        if old != nil {
            count -= 1
            live[p] -= 1
        }
        return old
    }

    /// Every present (id, value), in id order.
    public func forEach(_ body: (JobID, Value) throws -> Void) rethrows {
        for (p, page) in pages.enumerated() {
            let base = (firstPage + UInt64(p)) << Self.pageBits
            for (slot, value) in page.enumerated() {
                if let value { try body(JobID(base + UInt64(slot)), value) }
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
    /// queue): leading ones are dropped, the others keep their place but no memory.
    public mutating func releaseEmptyPages() {
        var n = 0
        while n < pages.count - 1, live[n] == 0 { n += 1 }
        if n > 0 {
            pages.removeFirst(n)
            live.removeFirst(n)
            firstPage += UInt64(n)
        }
        for p in pages.indices where live[p] == 0 && !pages[p].isEmpty { pages[p] = [] }
    }

    /// Pages holding memory (for tests of `releaseEmptyPages`).
    public var allocatedPages: Int { pages.reduce(0) { $0 + ($1.isEmpty ? 0 : 1) } }
}
