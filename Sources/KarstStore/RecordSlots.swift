import KarstCore
import Synchronization

/// Room for a load's records, filled in place — from several threads, each slot once — and
/// handed over as one array without copying a record.
///
/// A load used to decode its parts into arrays of their own and join them: a second copy of
/// every record (each of its strings retained, then released) into freshly faulted pages,
/// about a fifth of the time to read a million jobs.
///
/// Invariant: a slot is initialized exactly when it lies in a range `fill` completed; `build`
/// returns an array only when those ranges cover every slot, and otherwise releases them all.
package final class RecordSlots: @unchecked Sendable {
    private let base: UnsafeMutablePointer<JobRecord>?
    /// How many records the load expects.
    package let count: Int
    /// Ranges reserved by a `fill` (under way or done) and how many slots are filled.
    private let book = Mutex<(reserved: [Range<Int>], filled: Int)>(([], 0))

    private init(base: UnsafeMutablePointer<JobRecord>?, count: Int) {
        self.base = base
        self.count = count
    }

    /// An array of `count` records that `fill` fills through the slots it is given (every
    /// slot, once). When `fill` throws or leaves a slot empty, every filled slot is released
    /// and the load fails. Every `fill` call `fill` starts, on any thread, must have returned
    /// when it returns.
    package static func build(count: Int, _ fill: (RecordSlots) throws(StoreError) -> Void) throws(StoreError) -> [JobRecord] {
        var failure: StoreError?
        let records = [JobRecord](unsafeUninitializedCapacity: max(0, count)) { buffer, initialized in
            let slots = RecordSlots(base: buffer.baseAddress, count: max(0, count))
            do throws(StoreError) { try fill(slots) } catch { failure = error }
            let filled = slots.book.withLock { $0.filled }
            if failure == nil, filled != slots.count {
                failure = .corrupt(reason: "the load read \(filled) of the \(slots.count) jobs it counted (an internal error)")
            }
            if failure != nil {
                slots.releaseAll()
                initialized = 0
            } else {
                initialized = slots.count
            }
        }
        if let failure { throw failure }
        return records
    }

    /// Fills `range`'s slots in order with `make(i)`. When `make` throws, the slots this call
    /// filled are released and the error rethrown. A range outside the slots, or one that
    /// overlaps another `fill`'s, fills nothing and throws.
    package func fill(_ range: Range<Int>, _ make: (Int) throws(StoreError) -> JobRecord) throws(StoreError) {
        guard !range.isEmpty else { return }
        guard let base, range.lowerBound >= 0, range.upperBound <= count else {
            throw .corrupt(reason: "the load met more jobs than the \(count) it counted: the table changed while it was read")
        }
        let free = book.withLock { b in
            guard !b.reserved.contains(where: { $0.overlaps(range) }) else { return false }
            b.reserved.append(range)
            return true
        }
        guard free else { throw .corrupt(reason: "the load filled jobs \(range) twice (an internal error)") }
        var i = range.lowerBound
        do throws(StoreError) {
            while i < range.upperBound {
                (base + i).initialize(to: try make(i))
                i += 1
            }
        } catch {
            (base + range.lowerBound).deinitialize(count: i - range.lowerBound)
            book.withLock { b in b.reserved.removeAll { $0 == range } }
            throw error
        }
        book.withLock { $0.filled += range.count }
    }

    /// Releases every filled slot (the load failed).
    private func releaseAll() {
        guard let base else { return }
        let ranges = book.withLock { b in defer { b = ([], 0) }; return b.reserved }
        for r in ranges { (base + r.lowerBound).deinitialize(count: r.count) }
    }
}
