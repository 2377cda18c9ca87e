import KarstClient
import KarstConfig
import KarstCore
import KarstProtocol
import KarstServer
import KarstTesting
import Synchronization
import Testing

/// The same test body at two depths (like hummingbird's `.router` and `.live`): straight into
/// the engine with no socket, or through a real Unix socket and the NIO pipeline.
enum Depth: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case direct, socket
    var testDescription: String { rawValue }
}

protocol Transport: Sendable {
    /// One call as `caller` (the socket transport always calls as the test process: root).
    func call(_ method: String, _ params: JSONObject) async throws -> Result<JSONObject, VarlinkError>
    var clock: ManualClock { get }
    func close() async throws
}

extension Transport {
    /// A call that must succeed.
    func ok(_ method: String, _ params: JSONObject = [:]) async throws -> JSONObject {
        switch try await call(method, params) {
        case .success(let o): return o
        case .failure(let e): throw TestFailure("\(method) failed: \(e)")
        }
    }

    /// A call that must fail; returns the error's name.
    func fails(_ method: String, _ params: JSONObject = [:]) async throws -> VarlinkError {
        switch try await call(method, params) {
        case .success(let o): throw TestFailure("\(method) succeeded: \(o)")
        case .failure(let e): return e
        }
    }
}

func transport(_ depth: Depth, _ configuration: KarstConfiguration = testConfiguration()) async throws -> any Transport {
    switch depth {
    case .direct: DirectTransport(configuration)
    case .socket: try await SocketTransport(configuration)
    }
}

/// Calls go through `CallIntake` straight to an `EngineCore`, one batch each, as the caller `root`.
final class DirectTransport: Transport, @unchecked Sendable {
    let core: EngineCore
    let clock = ManualClock()
    let caller: Caller

    init(_ configuration: KarstConfiguration, caller: Caller = .internalAdmin) {
        core = EngineCore(configuration: configuration, configPath: nil, clock: clock, logger: quietLogger)
        self.caller = caller
    }

    func call(_ method: String, _ params: JSONObject) async throws -> Result<JSONObject, VarlinkError> {
        // The production path but for the socket: the connection's intake, then the engine.
        let sink = CollectingSink()
        var frame: [UInt8]?
        switch intake(method, params, caller: caller, sink: sink) {
        case .success(let item):
            core.process([item], now: clock.now)
            frame = sink.take().last
        case .failure(let local):
            frame = local.bytes
        }
        guard let frame, !frame.isEmpty else { throw TestFailure("no reply to \(method)") }
        let reply = try VarlinkReply.parse(frame.dropLast())
        if let e = reply.error { return .failure(e) }
        return .success(reply.parameters)
    }

    func close() async throws {}
}

/// Calls go through a live daemon's socket.
final class SocketTransport: Transport, @unchecked Sendable {
    let daemon: LiveDaemon
    let connection: VarlinkConnection
    let lock = Mutex(())

    init(_ configuration: KarstConfiguration) async throws {
        daemon = try await LiveDaemon(configuration)
        connection = try daemon.connect()
    }

    var clock: ManualClock { daemon.clock }

    func call(_ method: String, _ params: JSONObject) async throws -> Result<JSONObject, VarlinkError> {
        try lock.withLock { _ in
            do { return .success(try connection.call(method, params)) } catch let e as VarlinkError { return .failure(e) }
        }
    }

    func close() async throws {
        connection.close()
        try await daemon.stop()
    }
}
