import HeapModule

/// Capacity a running job gives back: when it is expected to end and what it frees then.
struct Release: Comparable, Sendable {
    var at: Instant
    var amount: Resources
    static func < (a: Release, b: Release) -> Bool { a.at < b.at }
    static func == (a: Release, b: Release) -> Bool { a.at == b.at && a.amount == b.amount }
}

/// The free capacity of one pool over time, as a step function: `free[i]` is what is free from
/// `times[i]` until `times[i + 1]` (the last step lasts until the next release). Built from what
/// is free now and the expected ends of the jobs running there; reservations and placements
/// subtract from it.
///
/// This is what backfill needs: a blocked job's earliest start is the first step from which its
/// demand fits for its whole expected run, and a later job may start now only if it fits in
/// every step until its own expected end.
///
/// Releases are kept in a heap and turned into steps only as far as a question needs (a pool
/// with ten thousand running jobs usually needs a few dozen of them): building one costs O(n),
/// not a sort. Invariant: every release at or before the last step's time is in the steps, and
/// no subtraction reaches past the last step (so a new step is the last one plus its release).
struct AvailabilityProfile: Sendable {
    private(set) var times: [Instant]
    private(set) var free: [Resources]
    private var remaining: Heap<Release>

    /// `releases` whose end is in the past count as now.
    init(now: Instant, free: Resources, releases: [Release]) {
        times = [now]
        self.free = [free]
        remaining = Heap(releases)
        materialize(through: now)
    }

    /// Adds every release at or before `t` as steps.
    private mutating func materialize(through t: Instant) {
        while let top = remaining.min, top.at <= t || top.at <= times[times.count - 1] {
            remaining.removeMin()
            append(top)
        }
    }

    /// Adds the next release (and any at the same moment); false when none is left.
    private mutating func materializeNext() -> Bool {
        guard let next = remaining.min else { return false }
        materialize(through: next.at)
        return true
    }

    private mutating func append(_ r: Release) {
        let last = times.count - 1
        if r.at < times[last] {
            // Not reached while the invariant holds; correct regardless.
            for j in split(at: r.at)..<times.count { free[j] += r.amount }
        } else if r.at == times[last] {
            free[last] += r.amount
        } else {
            times.append(r.at)
            free.append(free[last] + r.amount)
        }
    }

    /// The first step from `i` on, before `end`, in which `demand` does not fit; nil if it fits
    /// throughout (the steps up to `end` must be materialized).
    private func firstShortfall(_ demand: Resources, from i: Int, until end: Instant) -> Int? {
        var j = i
        while j < times.count, j == i || times[j] < end {
            if !demand.fits(in: free[j]) { return j }
            j += 1
        }
        return nil
    }

    /// Whether `demand` fits from now until `end`. Steps not materialized yet only add capacity,
    /// and every subtraction lies within the materialized steps, so they need not be.
    func fitsNow(_ demand: Resources, until end: Instant) -> Bool {
        firstShortfall(demand, from: 0, until: end) == nil
    }

    /// The earliest step start from which `demand` fits for `seconds`; nil if it never does.
    /// Linear in the steps: a start before a shortfall cannot succeed, so the search resumes
    /// after it.
    mutating func earliestStart(_ demand: Resources, seconds: Double) -> Instant? {
        var i = 0
        while true {
            if i >= times.count {
                guard materializeNext() else { return nil }
                continue
            }
            // Releases not yet turned into steps only add capacity, so a fit over the steps there
            // are is a fit: no need to materialize up to the job's end.
            let end = times[i].advanced(bySeconds: seconds)
            guard let bad = firstShortfall(demand, from: i, until: end) else { return times[i] }
            i = bad + 1
        }
    }

    /// Takes `demand` out of every step in [start, end).
    mutating func subtract(_ demand: Resources, from start: Instant, until end: Instant) {
        materialize(through: end)
        let a = split(at: start)
        let b = split(at: end)
        for j in a..<b { free[j] -= demand }
    }

    /// The index of the step that starts at `t`, splitting the step that contains it.
    private mutating func split(at t: Instant) -> Int {
        guard t > times[0] else { return 0 }
        var lo = 0, hi = times.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if times[mid] < t { lo = mid + 1 } else { hi = mid }
        }
        if lo < times.count, times[lo] == t { return lo }
        times.insert(t, at: lo)
        free.insert(free[lo - 1], at: lo)
        return lo
    }
}
