/// Time-shifting: a flexible job (one with a `notAfter`) that could start now may be delayed,
/// inside its window, to the hour when its data centre's power is cheapest and cleanest.
///
/// Each whole hour from the next one up to `notAfter` (at most 48) is a candidate start; an hour
/// is judged by the average price and non-clean share over the job's expected run, relative to
/// starting now, weighted by the energy and carbon scoring weights. The job waits for the best
/// hour only if it saves at least `timeShiftMinSaving`; past `notAfter` it is never delayed (it
/// runs as soon as it fits).
extension SchedulerState {
    func shiftTarget(_ job: Job, datacenter d: Int, now: Instant) -> Instant? {
        guard let notAfter = job.spec.notAfter, now < notAfter else { return nil }
        let w = topology.scoring
        guard w.energy + w.carbon > 0 else { return nil }
        let dc = topology.datacenters[d]
        let offset = topology.settings.utcOffsetHours
        let runHours = max(1, min(24, Int((job.demand.estimatedSeconds / 3600).rounded(.up))))
        func figures(_ hour: Int) -> (price: Double, dirty: Double) {
            var price = 0.0, dirty = 0.0
            for k in 0..<runHours {
                price += dc.priceByHour[(hour + k) % dc.priceByHour.count]
                dirty += 1 - dc.cleanShareByHour[(hour + k) % dc.cleanShareByHour.count]
            }
            return (price / Double(runHours), dirty / Double(runHours))
        }
        func ratio(_ x: Double, _ base: Double) -> Double { base > 0 ? x / base : (x > 0 ? 2 : 1) }
        let base = figures(now.hourOfDay(utcOffsetHours: offset))
        let intoHour = Double(((now.microseconds % 3_600_000_000) + 3_600_000_000) % 3_600_000_000) / 1_000_000
        var t = now.advanced(bySeconds: 3600 - intoHour)
        var best: Instant? = nil
        var bestScore = 1 - topology.settings.timeShiftMinSaving
        for _ in 0..<48 where t <= notAfter {
            let f = figures(t.hourOfDay(utcOffsetHours: offset))
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
