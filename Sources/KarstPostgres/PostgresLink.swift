import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import Synchronization

/// One connection to the database, used from one thread at a time and waited on synchronously
/// (the engine commits on a thread of its own), reconnected on the next use after it fails.
///
/// Every wait has a deadline: a database that stops answering (a stopped server, a lost
/// network) fails the call after `timeoutSeconds` and the connection is dropped, rather than
/// holding the engine for ever.
final class PostgresLink: @unchecked Sendable {
    let configuration: PostgresConnection.Configuration
    let group: any EventLoopGroup
    let logger: Logger
    let timeoutSeconds: Double
    private let connection = Mutex<PostgresConnection?>(nil)
    private static let ids = Atomic<Int>(0)

    init(configuration: PostgresConnection.Configuration, group: any EventLoopGroup, logger: Logger, timeoutSeconds: Double) {
        self.configuration = configuration
        self.group = group
        self.logger = logger
        self.timeoutSeconds = timeoutSeconds
    }

    /// Runs one statement and returns its rows.
    func query(_ query: PostgresQuery) throws -> PostgresQueryResult {
        let c = try connected()
        do {
            return try wait(c.query(query, logger: logger), on: c)
        } catch {
            drop(ifStill: c, error)
            throw error
        }
    }

    /// Runs one statement, handing each row to `onRow` as it arrives, on the connection's event
    /// loop, and waits at most `timeoutSeconds` for the last. For results of any size: `query`
    /// collects every row first, in an array postgres-nio grows by copying (quadratic: 45 s for
    /// a million rows; about 4 s here, specs decoded meanwhile).
    func forEachRow(_ query: PostgresQuery, timeoutSeconds: Double,
                    _ onRow: @escaping @Sendable (PostgresRow) throws -> Void) throws {
        let c = try connected()
        do {
            _ = try wait(c.query(query, logger: logger, onRow), on: c, seconds: timeoutSeconds)
        } catch {
            drop(ifStill: c, error)
            throw error
        }
    }

    /// Runs `body` between BEGIN and COMMIT on one connection (ROLLBACK when it throws).
    func transaction<T>(_ body: (PostgresLink) throws -> T) throws -> T {
        _ = try query("BEGIN")
        do {
            let value = try body(self)
            _ = try query("COMMIT")
            return value
        } catch {
            _ = try? query("ROLLBACK")
            throw error
        }
    }

    /// Closes the connection (the next use opens a new one).
    func close() {
        guard let c = connection.withLock({ c in defer { c = nil }; return c }) else { return }
        _ = try? (c.close() as EventLoopFuture<Void>).wait()
    }

    private func connected() throws -> PostgresConnection {
        if let c = connection.withLock({ $0 }), !c.isClosed { return c }
        let id = Self.ids.wrappingAdd(1, ordering: .relaxed).newValue
        let loop = group.next()
        let future = PostgresConnection.connect(on: loop, configuration: configuration, id: id, logger: logger)
        let c = try wait(future, on: nil)
        connection.withLock { $0 = c }
        return c
    }

    private func drop(ifStill c: PostgresConnection, _ error: any Error) {
        // A statement the server refused leaves the connection usable; anything else (a
        // timeout, a broken connection) drops it.
        if (error as? PSQLError)?.serverInfo != nil, !c.isClosed { return }
        let dropped = connection.withLock { current -> Bool in
            guard current === c else { return false }
            current = nil
            return true
        }
        if dropped { _ = c.close() as EventLoopFuture<Void> }
    }

    /// Waits for `future` at most `seconds` (`timeoutSeconds` by default).
    private func wait<T: Sendable>(_ future: EventLoopFuture<T>, on c: PostgresConnection?, seconds: Double? = nil) throws -> T {
        let promise = future.eventLoop.makePromise(of: T.self)
        let seconds = seconds ?? timeoutSeconds
        let timer = future.eventLoop.scheduleTask(in: .milliseconds(Int64(seconds * 1000))) {
            promise.fail(Timeout(seconds: seconds))
        }
        future.whenComplete { result in
            timer.cancel()
            promise.completeWith(result)
        }
        do {
            return try promise.futureResult.wait()
        } catch let e as Timeout {
            if let c { drop(ifStill: c, e) }
            throw e
        }
    }

    /// The database did not answer in time.
    struct Timeout: Error, CustomStringConvertible {
        var seconds: Double
        var description: String { "the database did not answer within \(seconds) s" }
    }
}

/// What a PostgreSQL error says, for logs and replies: the server's SQLSTATE and message when it
/// sent one (PSQLError's own description hides them by design), else the error itself.
func describe(_ error: any Error) -> String {
    if let e = error as? PSQLError {
        if let info = e.serverInfo {
            return "\(info[.message] ?? "error") (SQLSTATE \(info[.sqlState] ?? "?"))"
        }
        if let underlying = e.underlying { return "\(e.code): \(underlying)" }
        return "\(e.code)"
    }
    return "\(error)"
}

/// The server's SQLSTATE, when the error came from the server.
func sqlState(_ error: any Error) -> String? {
    (error as? PSQLError)?.serverInfo?[.sqlState]
}
