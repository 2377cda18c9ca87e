/// Time-shifting: a flexible job (one with a `notAfter`) that could start now may be delayed,
/// inside its window, to the hour when its data centre's power is cheapest and cleanest.
///
/// Each whole hour from the next one up to `notAfter` (at most 48) is a candidate start; an hour
/// is judged by the average price and non-clean share over the job's expected run, relative to
/// starting now, weighted by the energy and carbon scoring weights. The job waits for the best
/// hour only if it saves at least `timeShiftMinSaving`; past `notAfter` it is never delayed (it
/// runs as soon as it fits), nor to an hour from which its expected run would end after its
/// deadline. A shifted job is parked and judged again at the next whole hour.
extension SchedulerState {
    func shiftTarget(_ job: Job, datacenter d: Int, now: Instant) -> Instant? {
        guard let notAfter = job.spec.notAfter, now < notAfter else { return nil }
        let w = topology.scoring
        guard w.energy + w.carbon > 0 else { return nil }
        let offset = topology.settings.utcOffsetHours
        // Clamped as a double first: the conversion to Int is then always in range (NaN → 1).
        let hours = (job.demand.estimatedSeconds / 3600).rounded(.up)
        let runHours = hours >= 24 ? 24 : hours >= 1 ? Int(hours) : 1
        func ratio(_ x: Double, _ base: Double) -> Double { base > 0 ? x / base : (x > 0 ? 2 : 1) }
        let base = shiftCurves.figures(d, hour: now.hourOfDay(utcOffsetHours: offset), runHours: runHours)
        let latest = job.spec.deadline.map { min(notAfter, $0.advanced(bySeconds: -job.demand.estimatedSeconds)) } ?? notAfter
        var t = now.nextWholeHour
        var best: Instant? = nil
        var bestScore = 1 - topology.settings.timeShiftMinSaving
        for _ in 0..<48 where t <= latest {
            let f = shiftCurves.figures(d, hour: t.hourOfDay(utcOffsetHours: offset), runHours: runHours)
            let score = (w.energy * ratio(f.price, base.price) + w.carbon * ratio(f.dirty, base.dirty)) / (w.energy + w.carbon)
            if score < bestScore - 1e-9 {
                best = t
                bestScore = score
            }
            t = t.advanced(bySeconds: 3600)
        }
        return best
    }
}

/// Each data centre's mean power price and non-clean share over a run of 1…24 hours starting at
/// each hour of the day, worked out once per topology: every flexible job that could start is
/// judged against up to 48 candidate hours, and a table lookup spares summing up to 24 values of
/// the curves for each of them.
struct ShiftCurves: Sendable {
    /// `[datacenter][(runHours - 1) * 24 + hour]`.
    private var table: [[(price: Double, dirty: Double)]]

    init(_ datacenters: [Datacenter]) {
        table = datacenters.map { dc in
            // Curves without values (only possible for a topology built in code) never shift.
            guard !dc.priceByHour.isEmpty, !dc.cleanShareByHour.isEmpty else {
                return Array(repeating: (0, 0), count: 24 * 24)
            }
            var rows: [(price: Double, dirty: Double)] = []
            rows.reserveCapacity(24 * 24)
            for runHours in 1...24 {
                for hour in 0..<24 {
                    var price = 0.0, dirty = 0.0
                    for k in 0..<runHours {
                        price += dc.priceByHour[(hour + k) % dc.priceByHour.count]
                        dirty += 1 - dc.cleanShareByHour[(hour + k) % dc.cleanShareByHour.count]
                    }
                    rows.append((price / Double(runHours), dirty / Double(runHours)))
                }
            }
            return rows
        }
    }

    /// Mean price and non-clean share in data centre `d` over `runHours` (1…24) from `hour` (0…23).
    func figures(_ d: Int, hour: Int, runHours: Int) -> (price: Double, dirty: Double) {
        table[d][(runHours - 1) * 24 + hour]
    }
}
