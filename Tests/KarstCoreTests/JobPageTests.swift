import KarstCore
import KarstTesting
import Testing

/// `SchedulerState.jobPage`: paging by cursor sees every matching job once, in id order, and
/// `remaining` counts what is after the page — while jobs come and go between pages.
@Suite struct JobPageTests {
    @Test("pages in id order, each job once, remaining exact", arguments: Array(UInt64(1)...20))
    func pagesCoverEveryJobOnce(seed: UInt64) {
        var rng = SeededRandom(seed: seed)
        var h = ScenarioHarness(RandomHub.topology(&rng))
        for _ in 0..<300 { _ = PropertyTests.step(&h, &rng) }
        let states: [JobState?] = [nil, .pending, .running, .succeeded, .cancelled]
        let state = states[Int(rng.next() % UInt64(states.count))]
        let all = h.state.jobs(state: state).map(\.id)
        let limit = 1 + Int(rng.next() % 40)
        var seen: [JobID] = []
        var cursor: JobID? = nil
        while true {
            let (page, remaining) = h.state.jobPage(state: state, after: cursor, limit: limit)
            #expect(page.count <= limit)
            #expect(page.allSatisfy { state == nil || $0.state == state })
            let rest = all.filter { $0 > (page.last?.id ?? cursor ?? JobID(0)) }
            #expect(remaining == rest.count, "seed \(seed)")
            seen += page.map(\.id)
            guard remaining > 0, let last = page.last?.id else { break }
            cursor = last
        }
        #expect(seen == all, "seed \(seed): \(seen.count) seen of \(all.count)")
    }

    @Test("a cursor that no longer exists still starts after its id")
    func aGoneCursorStillWorks() {
        var rng = SeededRandom(seed: 7)
        var h = ScenarioHarness(RandomHub.topology(&rng))
        for _ in 0..<200 { _ = PropertyTests.step(&h, &rng) }
        let ids = h.state.jobs().map(\.id)
        guard ids.count > 3 else { return }
        let gone = JobID(ids[1].rawValue + 1_000_000)
        #expect(h.state.jobPage(after: gone).jobs.isEmpty)
        let middle = ids[ids.count / 2]
        #expect(h.state.jobPage(after: middle, limit: 2).jobs.map(\.id) == Array(ids.drop { $0 <= middle }.prefix(2)))
    }
}
