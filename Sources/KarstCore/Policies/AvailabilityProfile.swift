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
/// The running jobs' releases are read in order from the pool's `EndOrder` (kept sorted as jobs
/// start and end) and turned into steps only as far as a question needs (a pool with ten
/// thousand running jobs usually needs a few dozen of them): building a profile copies nothing
/// of the running set. The pass's own placements, few, are kept in a heap beside them.
/// Invariant: every release at or before the last step's time is in the steps, and no
/// subtraction reaches past the last step (so a new step is the last one plus its release).
struct AvailabilityProfile: Sendable {
    private(set) var times: [Instant]
    private(set) var free: [Resources]
    /// The pool's running jobs by expected end, the next one not yet in the steps at `cursor`.
    private let running: EndOrder
    private var cursor = EndOrder.Cursor()
    /// Running jobs whose release does not count (this pass evicts them: their capacity is
    /// already in `free`).
    private let skipping: Set<JobID>
    /// Releases of jobs this pass placed, not yet in the steps.
    private var placed: Heap<Release>
    /// Ends of subtractions that reach past the last step: capacity given back at `at`, turned
    /// into a step like a release when the steps get there (sorted by time).
    private var restores: [Release] = []

    /// Releases whose end is in the past count as now.
    init(now: Instant, free: Resources, running: EndOrder, skipping: Set<JobID> = [], placed: [Release] = []) {
        times = [now]
        self.free = [free]
        self.running = running
        self.skipping = skipping
        self.placed = Heap(placed)
        skipEvicted()
        materialize(through: now)
    }

    /// The next running job's release not yet in the steps.
    private var nextRunning: EndOrder.Entry? { running.entry(at: cursor) }

    /// Moves the cursor past running jobs this pass evicts.
    private mutating func skipEvicted() {
        guard !skipping.isEmpty else { return }
        while let e = running.entry(at: cursor), skipping.contains(e.job) { cursor = running.after(cursor) }
    }

    /// The earliest release or restore not yet in the steps.
    private var nextEvent: Instant? {
        var t = nextRunning?.at
        if let p = placed.min?.at, t == nil || p < t! { t = p }
        if let g = restores.first?.at, t == nil || g < t! { t = g }
        return t
    }

    /// Adds every release and restore at or before `t` as steps, in time order.
    private mutating func materialize(through t: Instant) {
        while let next = nextEvent, next <= t || next <= times[times.count - 1] {
            if let g = restores.first, g.at == next {
                restores.removeFirst()
                append(g)
            } else if let p = placed.min, p.at == next {
                append(placed.removeMin())
            } else if let e = nextRunning {
                append(Release(at: e.at, amount: e.amount))
                cursor = running.after(cursor)
                skipEvicted()
            }
        }
    }

    /// Adds the next release or restore (and any at the same moment); false when none is left.
    private mutating func materializeNext() -> Bool {
        guard let next = nextEvent else { return false }
        materialize(through: next)
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

    /// Takes `demand` out of every step in [start, end). Steps past the last one are not built
    /// for it (a long reservation would otherwise turn most releases into steps): the demand is
    /// taken from the steps there are from `start` on, and given back at `end` as a restore.
    mutating func subtract(_ demand: Resources, from start: Instant, until end: Instant) {
        // An empty interval holds nothing (a zero or negative run time from a stored job).
        guard start < end else { return }
        materialize(through: start)
        let a = split(at: start)
        if end <= times[times.count - 1] {
            let b = split(at: end)
            for j in a..<b { free[j] -= demand }
            return
        }
        for j in a..<times.count { free[j] -= demand }
        let restore = Release(at: end, amount: demand)
        restores.insert(restore, at: restores.firstIndex { $0.at > end } ?? restores.count)
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
