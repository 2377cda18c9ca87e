import KarstConfig
import KarstCore
import KarstProtocol
import KarstServer
import Logging
import Synchronization

extension FuzzTarget {
    /// Each method's parameter decoding and handling: the input is one call, answered by the
    /// daemon's engine (every method but the two that touch files, `Reload` and `Backup`, which
    /// the socket campaign covers) on a hub that lives across inputs. Every answer must be a
    /// Varlink reply, and the state's invariants must hold after it.
    public static let calls = FuzzTarget(name: "calls", summary: "one call's decoding and handling by the engine") { input in
        FuzzHub.shared.withLock { hub in
            hub.answer(frames: [Array(input)])
            hub.inputs += 1
            if hub.inputs % 2000 == 0 { hub = FuzzHub() }  // a queue that only grows would slow every pass
        }
    }

    /// Decode → submit → pass → apply on a small hub: the input is a sequence of calls (split at
    /// NUL), answered in batches of up to four with the clock moving between them (by an amount
    /// the input picks); the invariants must hold after every batch.
    public static let pipeline = FuzzTarget(name: "pipeline", summary: "calls in batches, passes and modelled ends on a small hub") { input in
        var hub = FuzzHub()
        let frames = input.split(separator: 0, omittingEmptySubsequences: true).prefix(64).map { Array($0) }
        var batch: [[UInt8]] = []
        for frame in frames {
            batch.append(frame)
            if batch.count == 4 || frame.first.map({ $0 % 3 == 0 }) == true {
                hub.answer(frames: batch)
                hub.now = hub.now.advanced(bySeconds: Double(frame.last.map { Int($0) } ?? 0) * 60)
                batch = []
            }
        }
        hub.answer(frames: batch)
        hub.now = hub.now.advanced(bySeconds: 86_400)
        hub.answer(frames: [])
    }
}

/// A small hub behind an ephemeral engine, and a clock the target moves.
struct FuzzHub {
    static let shared = Mutex(FuzzHub())
    static let configuration: KarstConfiguration = {
        let toml = """
            [[regions]]
            id = "gba"
            [[regions]]
            id = "local"
            [[classes]]
            id = "online"
            base_priority = 2
            can_preempt = true
            default_latency_ms = 30
            [[classes]]
            id = "batch"
            base_priority = 1
            aging_per_hour = 10
            preemptible = true
            default_latency_ms = 200
            [[tenants]]
            id = "capped"
            quota = { cpu = 8, memory_gib = 32 }
            borrow_limit = { cpu = 8 }
            [[datacenters]]
            id = "alpha"
            operator = "x"
            pue = 1.2
            clean_share = 0.5
            price_cny_per_kwh = [0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.3, 0.5, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.5, 0.4, 0.3, 0.3, 0.2, 0.2]
            rtt_ms = { gba = 20, local = 1 }
            [[datacenters.pools]]
            id = "cpu"
            cpu = 64
            memory_gib = 256
            [[datacenters.pools]]
            id = "npu"
            cpu = 64
            memory_gib = 512
            accelerators = 16
            accelerator_model = "ascend-910b"
            [[datacenters]]
            id = "beta"
            operator = "y"
            pue = 1.4
            clean_share = 0.9
            price_cny_per_kwh = 0.4
            rtt_ms = { gba = 40, local = 2 }
            [[datacenters.pools]]
            id = "cpu"
            cpu = 32
            memory_gib = 128
            """
        do { return try KarstConfiguration.parse(toml, source: "fuzz hub") } catch { fatalError("the fuzz hub's configuration: \(error)") }
    }()

    var now = Instant(rfc3339: "2026-07-01T06:00:00Z")!
    var inputs = 0
    let core: EngineCore

    init() {
        var logger = Logger(label: "karst-fuzz")
        logger.logLevel = .critical
        core = EngineCore(configuration: Self.configuration, configPath: nil, clock: FixedClock(), logger: logger)
    }

    /// Answers one batch of frames at `now`; checks every reply and the invariants.
    mutating func answer(frames: [[UInt8]]) {
        let sink = CollectingSink()
        var items: [EngineItem] = []
        for frame in frames {
            let decision = frame.withUnsafeBufferPointer { CallIntake.decide(frame: $0, version: "fuzz") }
            switch decision {
            case .reply(let reply, _): checkReply(reply)
            case .noReply: break
            case .engine(let call):
                switch call.command {
                case .reload, .backup: continue  // they touch files outside the input
                default: break
                }
                let id = UInt64(items.count + 1)
                items.append(.request(EngineRequest(call, caller: .internalAdmin, sink: sink, watchID: id)))
                // The watch a call may have started ends with the batch, as if its connection closed.
                if case .watch = call.command { items.append(.unwatch(id)) }
            }
        }
        core.process(items, now: now)
        for reply in sink.take() { checkReply(reply) }
        if let broken = core.state.checkInvariants() { fatalError("invariant broken: \(broken)") }
    }
}

/// The engine's clock, for the few things it reads time for itself; the target passes `now`.
struct FixedClock: ModelClock {
    func now() -> Instant { Instant(rfc3339: "2026-07-01T06:00:00Z")! }
    func wallSeconds(until instant: Instant) -> Double { 0 }
    func monotonicSeconds() -> Double { 0 }
}
