/// A map from job id to a value, stored in pages of consecutive ids.
///
/// Job ids are handed out densely in submission order, so a paged array beats a hash table on
/// every count that matters for a million-job queue: no hashing on lookup, no rehash on growth,
/// and at most one partly filled page of slack (a hash table keeps up to half its slots empty).
public struct JobTable<Value: Sendable>: Sendable {
    static var pageBits: UInt64 { 12 }
    static var pageSize: Int { 1 << 12 }

    private var pages: [[Value?]] = []
    /// Page number of `pages[0]`; pages before it were dropped by `dropEmptyLeadingPages()`.
    private var firstPage: UInt64 = 0
    public private(set) var count = 0

    public init() {}

    public var isEmpty: Bool { count == 0 }

    public subscript(id: JobID) -> Value? {
        get {
            let page = id.rawValue >> Self.pageBits
            guard page >= firstPage, page - firstPage < UInt64(pages.count) else { return nil }
            return pages[Int(page - firstPage)][Int(id.rawValue & UInt64(Self.pageSize - 1))]
        }
        set {
            let page = id.rawValue >> Self.pageBits
            let slot = Int(id.rawValue & UInt64(Self.pageSize - 1))
            if page < firstPage {
                // An id older than the pages kept comes back (a requeued job re-enters the
                // queue's table after a compaction dropped its page): grow at the front.
                guard newValue != nil else { return }
                let missing = Int(firstPage - page)
                pages.insert(contentsOf: repeatElement(Array(repeating: nil, count: Self.pageSize), count: missing), at: 0)
                firstPage = page
            }
            let p = Int(page - firstPage)
            if p >= pages.count {
                guard newValue != nil else { return }
                while pages.count <= p { pages.append(Array(repeating: nil, count: Self.pageSize)) }
            }
            // Moved out, not compared in place: reading the slot to test it against nil copied
            // the whole value (a job is hundreds of bytes) on every store.
            let old = pages[p][slot].take()
            count += (newValue != nil ? 1 : 0) - (old != nil ? 1 : 0)
            pages[p][slot] = newValue
        }
    }

    /// Changes a present value in place; returns false when absent.
    @discardableResult
    public mutating func update(_ id: JobID, _ change: (inout Value) -> Void) -> Bool {
        let page = id.rawValue >> Self.pageBits
        guard page >= firstPage, page - firstPage < UInt64(pages.count) else { return false }
        let p = Int(page - firstPage), slot = Int(id.rawValue & UInt64(Self.pageSize - 1))
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
        let old = pages[Int(page - firstPage)][Int(id.rawValue & UInt64(Self.pageSize - 1))].take()
        if old != nil { count -= 1 }
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

    /// Releases leading pages that hold nothing (after old jobs were forgotten).
    public mutating func dropEmptyLeadingPages() {
        var n = 0
        while n < pages.count - 1, pages[n].allSatisfy({ $0 == nil }) { n += 1 }
        if n > 0 {
            pages.removeFirst(n)
            firstPage += UInt64(n)
        }
    }
}
