/// The free capacity of one pool over time, as a step function: `free[i]` is what is free from
/// `times[i]` until `times[i + 1]` (the last step lasts forever). Built from what is free now
/// and the expected ends of the jobs running there; reservations and placements subtract from it.
///
/// This is what backfill needs: a blocked job's earliest start is the first step from which its
/// demand fits for its whole expected run, and a later job may start now only if it fits in
/// every step until its own expected end.
struct AvailabilityProfile: Sendable {
    private(set) var times: [Instant]
    private(set) var free: [Resources]

    /// `releases` are (expected end, resources freed); ends in the past count as now.
    init(now: Instant, free: Resources, releases: [(at: Instant, amount: Resources)]) {
        times = [now]
        self.free = [free]
        for r in releases.sorted(by: { $0.at < $1.at }) {
            let t = max(r.at, now)
            if t == times[times.count - 1] {
                self.free[self.free.count - 1] += r.amount
            } else {
                times.append(t)
                self.free.append(self.free[self.free.count - 1] + r.amount)
            }
        }
    }

    /// The first step from `i` on, before `end`, in which `demand` does not fit; nil if it fits
    /// throughout.
    func firstShortfall(_ demand: Resources, from i: Int, until end: Instant) -> Int? {
        var j = i
        while j < times.count, j == i || times[j] < end {
            if !demand.fits(in: free[j]) { return j }
            j += 1
        }
        return nil
    }

    /// Whether `demand` fits from now until `end`.
    func fitsNow(_ demand: Resources, until end: Instant) -> Bool {
        firstShortfall(demand, from: 0, until: end) == nil
    }

    /// The earliest step start from which `demand` fits for `seconds`; nil if it never does.
    /// Linear: a start before a shortfall cannot succeed, so the search resumes after it.
    func earliestStart(_ demand: Resources, seconds: Double) -> Instant? {
        var i = 0
        while i < times.count {
            guard let bad = firstShortfall(demand, from: i, until: times[i].advanced(bySeconds: seconds)) else {
                return times[i]
            }
            i = bad + 1
        }
        return nil
    }

    /// Takes `demand` out of every step in [start, end).
    mutating func subtract(_ demand: Resources, from start: Instant, until end: Instant) {
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
