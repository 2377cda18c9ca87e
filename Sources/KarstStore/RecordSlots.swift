import Dispatch
import KarstCore
import Synchronization

/// Room for a load's records, filled in place — from several threads, each slot once — and
/// handed over as one array without copying a record.
///
/// A load used to decode its parts into arrays of their own and join them: a second copy of
/// every record (each of its strings retained, then released) into freshly faulted pages,
/// about a fifth of the time to read a million jobs.
///
/// Invariants: a slot is initialized exactly when it lies in a range a `fill` completed. Once
/// `build`'s closure has returned, the slots are sealed — a `fill` that starts later writes
/// nothing and throws — and `build` waits for every `fill` under way before it releases or
/// hands over the slots, so no write can reach them after `build` returns, whatever a caller's
/// threads still do.
package final class RecordSlots: @unchecked Sendable {
    private let base: UnsafeMutablePointer<JobRecord>?
    /// How many records the load expects.
    package let count: Int
    private struct Book {
        /// Ranges taken by a `fill`, under way or completed.
        var reserved: [Range<Int>] = []
        /// Ranges whose every slot is initialized.
        var completed: [Range<Int>] = []
        var filled = 0
        var sealed = false
    }
    private let book = Mutex(Book())
    /// Entered by each `fill` once it has reserved its range, left when it is done.
    private let underWay = DispatchGroup()

    private init(base: UnsafeMutablePointer<JobRecord>?, count: Int) {
        self.base = base
        self.count = count
    }

    /// An array of `count` records that `fill` fills through the slots it is given (every
    /// slot, once). When `fill` throws or leaves a slot empty, every filled slot is released
    /// and the load fails.
    package static func build(count: Int, _ fill: (RecordSlots) throws(StoreError) -> Void) throws(StoreError) -> [JobRecord] {
        var failure: StoreError?
        let records = [JobRecord](unsafeUninitializedCapacity: max(0, count)) { buffer, initialized in
            let slots = RecordSlots(base: buffer.baseAddress, count: max(0, count))
            do throws(StoreError) { try fill(slots) } catch { failure = error }
            slots.book.withLock { $0.sealed = true }
            slots.underWay.wait()
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
    /// filled are released and the error rethrown. A range outside the slots, one that overlaps
    /// another `fill`'s, or any once the slots are sealed, fills nothing and throws.
    package func fill(_ range: Range<Int>, _ make: (Int) throws(StoreError) -> JobRecord) throws(StoreError) {
        guard !range.isEmpty else { return }
        guard let base, range.lowerBound >= 0, range.upperBound <= count else {
            throw .corrupt(reason: "the load met more jobs than the \(count) it counted: the table changed while it was read")
        }
        let refusal: StoreError? = book.withLock { b in
            if b.sealed { return .unavailable(path: "the load", reason: "its rows came after it had ended") }
            if b.reserved.contains(where: { $0.overlaps(range) }) {
                return .corrupt(reason: "the load filled jobs \(range) twice (an internal error)")
            }
            b.reserved.append(range)
            underWay.enter()
            return nil
        }
        if let refusal { throw refusal }
        defer { underWay.leave() }
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
        book.withLock { b in
            b.completed.append(range)
            b.filled += range.count
        }
    }

    /// Releases every filled slot (the load failed; no `fill` is under way).
    private func releaseAll() {
        guard let base else { return }
        let ranges = book.withLock { b in defer { b.completed = []; b.filled = 0 }; return b.completed }
        for r in ranges { (base + r.lowerBound).deinitialize(count: r.count) }
    }
}
