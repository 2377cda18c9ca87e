import Foundation
import KarstCore
@testable import KarstStore
import Synchronization
import Testing

/// `RecordSlots`: a load's records filled in place, from several threads, handed over whole or
/// not at all.
@Suite struct RecordSlotsTests {
    func record(_ i: Int) -> JobRecord {
        JobRecord(id: JobID(UInt64(i + 1)), spec: JobSpec(name: "job \(i)", origin: "gba", priorityClass: "batch",
                                                          resources: ResourceRequest(cpu: 1, memoryGiB: 1)),
                  tenant: "tenant-\(i % 3)", state: .pending, submittedAt: Instant(microseconds: Int64(i)))
    }

    @Test func rangesFilledFromSeveralThreadsMakeTheArrayInOrder() throws {
        let records = try RecordSlots.build(count: 10_000) { slots throws(StoreError) in
            let failed = Mutex(false)
            DispatchQueue.concurrentPerform(iterations: 10) { p in
                do throws(StoreError) {
                    try slots.fill((p * 1000)..<((p + 1) * 1000)) { i throws(StoreError) in record(i) }
                } catch {
                    failed.withLock { $0 = true }
                }
            }
            #expect(!failed.withLock { $0 })
        }
        #expect(records.count == 10_000)
        #expect(records.enumerated().allSatisfy { $0.element == record($0.offset) })
        #expect(try RecordSlots.build(count: 0) { _ throws(StoreError) in }.isEmpty)
    }

    @Test func aFailedFillReleasesItsSlotsAndFailsTheLoad() {
        #expect(throws: StoreError.self) {
            _ = try RecordSlots.build(count: 100) { slots throws(StoreError) in
                try slots.fill(0..<50) { i throws(StoreError) in record(i) }
                try slots.fill(50..<100) { i throws(StoreError) in
                    if i == 75 { throw .corrupt(reason: "job \(i)") }
                    return record(i)
                }
            }
        }
    }

    @Test func aGapAnOverlapOrARowBeyondTheCountIsAnError() {
        // A slot left empty.
        #expect(throws: StoreError.self) {
            _ = try RecordSlots.build(count: 10) { slots throws(StoreError) in
                try slots.fill(0..<9) { i throws(StoreError) in record(i) }
            }
        }
        // A range filled twice.
        do {
            _ = try RecordSlots.build(count: 10) { slots throws(StoreError) in
                try slots.fill(0..<6) { i throws(StoreError) in record(i) }
                try slots.fill(5..<10) { i throws(StoreError) in record(i) }
            }
            Issue.record("an overlapping fill was accepted")
        } catch {
            #expect("\(error)".contains("filled jobs 5..<10 twice"), "\(error)")
        }
        // A fill that comes after the load ended (a row its query still handed over) writes
        // nothing: the slots are sealed once `build`'s closure has returned.
        var kept: RecordSlots?
        #expect(throws: StoreError.self) {
            _ = try RecordSlots.build(count: 2) { slots throws(StoreError) in
                kept = slots
                try slots.fill(0..<1) { i throws(StoreError) in record(i) }
            }
        }
        do {
            try kept?.fill(1..<2) { i throws(StoreError) in record(i) }
            Issue.record("a fill after the load ended was accepted")
        } catch {
            #expect("\(error)".contains("after it had ended"), "\(error)")
        }
        // More rows than counted (the table changed while it was read).
        do {
            _ = try RecordSlots.build(count: 10) { slots throws(StoreError) in
                try slots.fill(0..<11) { i throws(StoreError) in record(i) }
            }
            Issue.record("a row beyond the count was accepted")
        } catch {
            #expect("\(error)".contains("more jobs than the 10 it counted"), "\(error)")
        }
    }
}
