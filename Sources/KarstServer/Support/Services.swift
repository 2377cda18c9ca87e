import Logging
import ServiceLifecycle
import UnixSignals

/// Runs the engine thread for as long as the service group lives; stops it last (after the
/// control server has answered what it read), so no accepted call goes unanswered.
public struct EngineService: Service {
    let engine: Engine

    public init(engine: Engine) { self.engine = engine }

    public func run() async throws {
        engine.start()
        try? await gracefulShutdown()
        await engine.stop()
        do { try engine.core.store?.close() } catch {
            engine.core.logger.warning("closing the state store: \(error)")
        }
    }
}

/// `systemctl reload` sends SIGHUP: re-read and validate the configuration off the engine's
/// critical path, swap it in, and report the outcome.
public struct ReloadSignalService: Service {
    let engine: Engine
    let background: BackgroundWork
    let logger: Logger

    public init(engine: Engine, background: BackgroundWork, logger: Logger) {
        self.engine = engine
        self.background = background
        self.logger = logger
    }

    public func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        for await _ in signals.cancelOnGracefulShutdown() {
            logger.notice("SIGHUP: reloading the configuration")
            engine.core.onReloadStart?()
            // Read and validate as background work; only the swap happens on the engine.
            let path = engine.core.configPath
            let engine = self.engine
            let read: @Sendable () -> Void = {
                engine.submit(.applyConfiguration(EngineCore.readConfiguration(path), respond: nil))
            }
            if !background.enqueue(read) { read() }
        }
    }
}
