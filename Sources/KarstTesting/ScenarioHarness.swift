import KarstCore

/// Drives a `SchedulerState` on a manual clock and records every event and plan, like Nomad's
/// scheduler test harness: a test submits, ticks and asserts on what happened.
public struct ScenarioHarness: Sendable {
    public var state: SchedulerState
    public let clock: ManualClock
    public private(set) var events: [Event] = []
    public private(set) var plans: [Plan] = []

    public init(_ topology: Topology, clock: ManualClock = ManualClock()) {
        self.state = SchedulerState(topology: topology)
        self.clock = clock
    }

    public var now: Instant { clock.now }

    /// Submits a spec at the current time; returns the job id.
    @discardableResult
    public mutating func submit(_ builder: JobBuilder) throws(SchedulerError) -> JobID {
        let e = try state.submit(builder.spec, now: now)
        events.append(e)
        return e.job.id
    }

    /// Completions due now, then one pass, applied. Returns the events of this tick.
    @discardableResult
    public mutating func tick() -> [Event] {
        var out = state.advance(to: now)
        let plan = state.plan(now: now)
        plans.append(plan)
        out += state.apply(plan)
        events += out
        return out
    }

    /// Advances the clock by `seconds` and ticks.
    @discardableResult
    public mutating func run(seconds: Double) -> [Event] {
        clock.advance(bySeconds: seconds)
        return tick()
    }

    /// Records events a test produced by calling the state directly.
    public mutating func record(_ more: [Event]) { events += more }

    public func job(_ id: JobID) -> Job? { state.job(id) }

    /// Checks the state's capacity invariants; returns a description of the first violation.
    public func capacityViolation() -> String? { state.checkInvariants() }
}
