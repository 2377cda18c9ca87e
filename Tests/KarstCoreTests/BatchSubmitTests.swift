import KarstCore
import KarstTesting
import Testing

/// `submitBatch` checks every spec and builds its demand once, then queues them all: it must
/// leave exactly the state that submitting the same specs one by one leaves when all are valid,
/// and change nothing when any is not (refusing it with the error its first bad spec gets, the
/// field prefixed with its place in the batch).
@Suite struct BatchSubmitTests {
    @Test func aBatchIsTheSameAsItsJobsOneByOneOrNothingAtAll() throws {
        var accepted = 0, refused = 0
        for seed in 1...300 as ClosedRange<UInt64> {
            var rng = SeededRandom(seed: seed)
            let topology = RandomHub.topology(&rng)
            var state = SchedulerState(topology: topology)
            let now = Instant(microseconds: 1_000_000)
            // Some jobs first, for dependencies to name.
            for _ in 0..<3 { _ = try? state.submit(RandomHub.spec(&rng, topology, now: now, lastID: state.nextJobID.rawValue - 1), now: now) }
            let batch = (0..<Int(1 + rng.next() % 6)).map { _ in
                RandomHub.spec(&rng, topology, now: now, lastID: state.nextJobID.rawValue - 1)
            }
            var oneByOne = state
            var expected: Result<[Event], SchedulerError> = .success([])
            for (i, spec) in batch.enumerated() {
                do {
                    let e = try oneByOne.submit(spec, now: now)
                    if case .success(let events) = expected { expected = .success(events + [e]) }
                } catch {
                    if case .success = expected {
                        if case .invalidJob(let field, let reason) = error {
                            expected = .failure(.invalidJob(field: "jobs[\(i)].\(field)", reason: reason))
                        } else {
                            expected = .failure(error)
                        }
                    }
                }
            }
            let before = state
            var batched = state
            let got = Result { () throws(SchedulerError) in try batched.submitBatch(batch, now: now) }
            switch (got, expected) {
            case (.success(let events), .success(let want)):
                accepted += 1
                #expect(events == want, "seed \(seed)")
                #expect(batched.jobs() == oneByOne.jobs(), "seed \(seed)")
                #expect(batched.tenantShares == oneByOne.tenantShares, "seed \(seed)")
                #expect(batched.nextJobID == oneByOne.nextJobID, "seed \(seed)")
            case (.failure(let error), .failure(let want)):
                refused += 1
                #expect(error == want, "seed \(seed)")
                #expect(batched.jobs() == before.jobs() && batched.tenantShares == before.tenantShares, "seed \(seed)")
                #expect(batched.nextJobID == before.nextJobID, "seed \(seed)")
            default:
                Issue.record("seed \(seed): batch \(got), one by one \(expected)")
            }
        }
        // Both outcomes were exercised.
        #expect(accepted > 30 && refused > 30, "accepted \(accepted), refused \(refused)")
    }
}
