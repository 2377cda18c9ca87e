/// Backfill reservations made during one pass: for each pool, the availability profile (built on
/// first use) and the first job that reserved capacity there.
///
/// Invariant: a cached profile reflects every placement and reservation the pass has made in its
/// pool since it was built, so later earliest-start answers account for them.
struct ReservationBook: Sendable {
    private(set) var profiles: [Int: AvailabilityProfile] = [:]
    /// The first job that reserved capacity in each pool (named in `reserved-for:ID`).
    private(set) var holders: [Int: JobID] = [:]

    /// Whether no pool has a reservation (the common, fast case).
    var isEmpty: Bool { holders.isEmpty }

    func holder(of site: Int) -> JobID? { holders[site] }

    /// Whether `demand`, started now and running until `end`, leaves every reservation in the
    /// pool intact.
    func admits(_ site: Int, _ demand: Resources, until end: Instant) -> Bool {
        guard holders[site] != nil, let profile = profiles[site] else { return true }
        return profile.fitsNow(demand, until: end)
    }

    /// Whether `site` has a profile built this pass.
    func hasProfile(_ site: Int) -> Bool { profiles[site] != nil }

    /// The earliest start of `demand` for `seconds` in `site`'s stored profile.
    mutating func earliestStart(_ site: Int, _ demand: Resources, seconds: Double) -> Instant? {
        profiles[site]?.earliestStart(demand, seconds: seconds)
    }

    mutating func store(_ profile: AvailabilityProfile, for site: Int) { profiles[site] = profile }

    /// Records a placement made now in `site`.
    mutating func occupy(_ site: Int, _ demand: Resources, from now: Instant, until end: Instant) {
        guard !profiles.isEmpty else { return }
        profiles[site]?.subtract(demand, from: now, until: end)
    }

    /// Reserves `demand` in `site` over [start, end) for `job`.
    mutating func reserve(_ site: Int, for job: JobID, _ demand: Resources, from start: Instant, until end: Instant) {
        profiles[site]?.subtract(demand, from: start, until: end)
        if holders[site] == nil { holders[site] = job }
    }
}
