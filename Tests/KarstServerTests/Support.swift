import Foundation
import KarstClient
import KarstConfig
import KarstCore
import KarstProtocol
import KarstServer
import KarstStore
import KarstTesting
import Logging
import NIOPosix
import ServiceLifecycle
import Synchronization
import Testing

extension ManualClock: ModelClock {
    public func now() -> Instant { self.now }
    /// The engine polls a manual clock every 10 ms, so advancing it takes effect promptly.
    public func wallSeconds(until instant: Instant) -> Double { 0.01 }
    /// The engine's pacing (gauges, placement rate, pruning) follows the model's time.
    public func monotonicSeconds() -> Double { Double(now.microseconds) / 1e6 }
}

/// A call as a connection makes it: framed, through `CallIntake` (the production decoding), and
/// if it is for the engine, an `EngineItem` whose replies go to `sink`.
func intake(_ method: String, _ params: JSONObject, caller: Caller = .internalAdmin, sink: ReplySink)
    -> Result<EngineItem, ReplyFrame>
{
    let framed = VarlinkCall(method: method, parameters: params).framed.dropLast()
    switch Array(framed).withUnsafeBufferPointer({ CallIntake.decide(frame: $0, version: "test") }) {
    case .reply(let frame, _): return .failure(ReplyFrame(bytes: frame))
    case .noReply: return .failure(ReplyFrame(bytes: []))
    case .engine(let call): return .success(.request(EngineRequest(call, caller: caller, sink: sink)))
    }
}

/// A reply the intake gave without the engine.
struct ReplyFrame: Error {
    var bytes: [UInt8]
}

/// A sink that calls `body` with every frame it receives.
final class CallbackSink: ReplySink {
    let body: @Sendable ([UInt8]) -> Void
    init(_ body: @escaping @Sendable ([UInt8]) -> Void) { self.body = body }
    func deliver(_ replies: [(UInt64, EngineReply)]) { for r in replies { body(r.1.frame) } }
}

/// A small hub for server tests: two sites, one with NPUs; tenants with and without quota.
func testConfiguration(_ change: (inout KarstConfiguration) -> Void = { _ in }) -> KarstConfiguration {
    let topology = TopologyBuilder()
        .datacenter("alpha", pools: [("cpu", 64, 256, 0, nil)])
        .datacenter("beta", pools: [("cpu", 64, 256, 0, nil), ("npu", 64, 512, 16, "ascend-910b")])
        .tenant("capped", quota: Resources(cpu: 8, memoryGiB: 64, accelerators: 0), borrowLimit: .zero)
        .topology
    var c = KarstConfiguration(topology: topology)
    c.server.socketMode = 0o666
    change(&c)
    return c
}

let quietLogger: Logger = {
    var l = Logger(label: "karstd-test")
    l.logLevel = .critical
    return l
}()

/// A directory under /tmp with a short path (socket paths are limited to 107 bytes), readable by
/// other users (the permission tests connect as `nobody`).
func shortTempDir() -> String { TemporaryDirectories.make(prefix: "karst") }

/// The daemon, in process, on a real Unix socket in a temp directory, driven by a manual clock.
final class LiveDaemon: Sendable {
    let dir: String
    let socket: String
    let clock: ManualClock
    let engine: Engine
    let server: ControlServer
    let group: ServiceGroup
    let task: Task<Void, Error>
    let loops: MultiThreadedEventLoopGroup

    /// `store`: a store of the test's own (its state starts empty), instead of `stateDirectory`'s.
    init(_ configuration: KarstConfiguration = testConfiguration(), stateDirectory: String? = nil,
         store given: (any StateStore)? = nil) async throws {
        dir = shortTempDir()
        socket = dir + "/k.sock"
        clock = ManualClock()
        var store: (any StateStore)? = given
        var state: SchedulerState? = nil
        if let stateDirectory {
            let (s, recovered, _) = try KarstDaemon.recover(configuration, directory: stateDirectory, logger: quietLogger)
            store = s
            state = recovered
        }
        let core = EngineCore(configuration: configuration, configPath: nil, clock: clock, logger: quietLogger,
                              store: store, state: state)
        engine = Engine(core: core)
        loops = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let ready = ReadySignal()
        server = ControlServer(target: .path(socket), settings: configuration.server,
                               access: AccessPolicy(configuration.access), engine: engine, logger: quietLogger,
                               group: loops, onReady: { _ in ready.fire() })
        group = ServiceGroup(configuration: .init(
            services: [.init(service: EngineService(engine: engine)), .init(service: server)],
            logger: quietLogger))
        let g = group
        task = Task { try await g.run() }
        try await ready.wait(seconds: 10)
    }

    /// A client whose reads fail after 60 s rather than hang the suite on a stuck daemon.
    func connect() throws -> VarlinkConnection {
        let c = try VarlinkConnection(path: socket)
        c.setReceiveTimeout(seconds: 60)
        return c
    }

    func stop() async throws {
        await group.triggerGracefulShutdown()
        try await task.value
        try await loops.shutdownGracefully()
        try? FileManager.default.removeItem(atPath: dir)
    }
}

/// Fires once; `wait` returns when it has (or throws after a timeout).
final class ReadySignal: Sendable {
    private let fired = Mutex(false)
    func fire() { fired.withLock { $0 = true } }
    func wait(seconds: Double) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        while !fired.withLock({ $0 }) {
            guard Date() < deadline else { throw TestFailure("not ready within \(seconds) s") }
            try await Task.sleep(for: .milliseconds(10))
        }
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

/// Polls `condition` until it holds or `seconds` pass.
func eventually(_ seconds: Double = 10, _ condition: () throws -> Bool) async throws -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try condition() { return true }
        try await Task.sleep(for: .milliseconds(20))
    }
    return try condition()
}

/// The folder of the built products (karstd, karstctl), beside the test bundle.
var productsDirectory: URL {
    URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
}

/// A spec as call parameters.
func jobParams(origin: String = "local", cls: String = "batch", cpu: Double = 1, memory: Double = 1,
               duration: Double? = nil, extra: JSONObject = [:]) -> JSONObject {
    var job: JSONObject = ["origin": .string(origin), "priorityClass": .string(cls),
                           "resources": .object(["cpu": .number(cpu), "memoryGiB": .number(memory)])]
    if let duration { job["durationSeconds"] = .number(duration) }
    for m in extra.members { job[m.key] = m.value }
    return ["job": .object(job)]
}

extension JSONObject {
    func job(_ key: String = "job") -> JSONObject? { self[key]?.objectValue }
    func string(_ key: String) -> String? { self[key]?.stringValue }
}

/// Runs a process and returns (status, stdout, stderr).
func runProcess(_ path: String, _ arguments: [String], environment: [String: String]? = nil) throws -> (Int32, String, String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: path)
    p.arguments = arguments
    if let environment { p.environment = environment }
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    let o = out.fileHandleForReading.readDataToEndOfFile()
    let e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
}
