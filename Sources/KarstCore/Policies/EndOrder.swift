/// The running jobs of one pool in order of expected end, kept up to date as jobs start and
/// end, so that a backfill profile can walk the earliest releases without copying or sorting
/// the pool's running set (a pool runs thousands of jobs; a profile usually needs a few dozen).
///
/// Stored as a list of sorted blocks of at most `maxBlock` entries (a one-level B-tree): insert
/// and remove cost a binary search and a move within one block; a walk in order is a cursor.
/// Invariant: blocks are non-empty, each sorted by (end, job), and every entry of a block comes
/// before every entry of the next.
struct EndOrder: Sendable {
    /// One running job: when it is expected to end and what it frees in this pool then.
    struct Entry: Sendable {
        var at: Instant
        var job: JobID
        var amount: Resources

        func precedes(_ at: Instant, _ job: JobID) -> Bool { (self.at, self.job) < (at, job) }
    }

    /// Position of an entry: block, then index within it.
    struct Cursor: Sendable {
        var block = 0
        var index = 0
    }

    static var maxBlock: Int { 512 }

    private(set) var blocks: [[Entry]] = []
    private(set) var count = 0

    init() {}

    /// Adds a job's entry.
    mutating func insert(_ e: Entry) {
        count += 1
        guard !blocks.isEmpty else { blocks = [[e]]; return }
        let b = min(blockIndex(e.at, e.job), blocks.count - 1)
        let i = Self.insertionIndex(blocks[b], e.at, e.job)
        blocks[b].insert(e, at: i)
        if blocks[b].count > Self.maxBlock {
            let tail = Array(blocks[b][(Self.maxBlock / 2)...])
            blocks[b].removeSubrange((Self.maxBlock / 2)...)
            blocks.insert(tail, at: b + 1)
        }
    }

    /// Removes the entry of `job` expected to end `at`; false when there is none.
    @discardableResult
    mutating func remove(at: Instant, job: JobID) -> Bool {
        let b = blockIndex(at, job)
        guard b < blocks.count else { return false }
        let i = Self.insertionIndex(blocks[b], at, job)
        guard i < blocks[b].count, blocks[b][i].at == at, blocks[b][i].job == job else { return false }
        blocks[b].remove(at: i)
        if blocks[b].isEmpty { blocks.remove(at: b) }
        count -= 1
        return true
    }

    /// The entry at `c`, or nil past the end.
    func entry(at c: Cursor) -> Entry? {
        c.block < blocks.count ? blocks[c.block][c.index] : nil
    }

    /// The position after `c`.
    func after(_ c: Cursor) -> Cursor {
        c.index + 1 < blocks[c.block].count ? Cursor(block: c.block, index: c.index + 1) : Cursor(block: c.block + 1)
    }

    /// Every entry in order (for checks).
    var entries: [Entry] { blocks.flatMap { $0 } }

    /// The first block whose last entry is not before (at, job); `blocks.count` if none.
    private func blockIndex(_ at: Instant, _ job: JobID) -> Int {
        var lo = 0, hi = blocks.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if blocks[mid][blocks[mid].count - 1].precedes(at, job) { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// The first index in `block` whose entry is not before (at, job).
    private static func insertionIndex(_ block: [Entry], _ at: Instant, _ job: JobID) -> Int {
        var lo = 0, hi = block.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if block[mid].precedes(at, job) { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }
}
