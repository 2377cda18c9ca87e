import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A PostgreSQL 15 server of a test's own: `initdb` in a temporary directory as the `postgres`
/// user, listening only on a private socket directory, started and stopped by pid.
///
/// Debian's packages put the programs in /usr/lib/postgresql/15/bin (the Makefile installs
/// `postgresql-15`). The superuser is `karst`; local connections are trusted (the directory is
/// private), TCP on 127.0.0.1 (when `tcp`) takes the password `password`.
public final class PostgresCluster: @unchecked Sendable {
    public static let bin = "/usr/lib/postgresql/15/bin"
    public let dir: String
    public var data: String { dir + "/data" }
    /// The socket directory, as a client's `host`.
    public var socketDirectory: String { dir + "/sock" }
    public var socketPath: String { socketDirectory + "/.s.PGSQL.\(port)" }
    public let port: Int
    public let user = "karst"
    public let database = "karst"
    public let password = "password"
    public var log: String { dir + "/postgres.log" }
    public private(set) var pid: pid_t = 0

    /// Present: the programs and the `postgres` user, and the test runs as root (to run them as it).
    public static var possible: Bool {
        getuid() == 0 && getpwnam("postgres") != nil
            && ["initdb", "postgres", "psql"].allSatisfy { FileManager.default.isExecutableFile(atPath: bin + "/" + $0) }
    }

    /// Creates the cluster and its `karst` database, and starts the server.
    public init(tcp: Bool = false) throws {
        dir = TemporaryDirectories.make(prefix: "pg")
        port = Int.random(in: 30_000...39_000)
        guard let pw = getpwnam("postgres") else { throw Spawn.Failure(description: "no postgres user") }
        let uid = pw.pointee.pw_uid, gid = pw.pointee.pw_gid
        try FileManager.default.createDirectory(atPath: socketDirectory, withIntermediateDirectories: true)
        for path in [dir, socketDirectory] { chown(path, uid, gid) }
        chmod(dir, 0o700)
        try password.write(toFile: dir + "/pwfile", atomically: true, encoding: .utf8)
        chown(dir + "/pwfile", uid, gid)
        guard try asPostgres("initdb", ["-D", data, "-U", user, "--pwfile=" + dir + "/pwfile", "-A", "trust",
                                        "--auth-host=scram-sha-256", "-E", "UTF8", "--no-sync"]) else {
            throw Spawn.Failure(description: "initdb failed: see \(log)")
        }
        try start(tcp: tcp)
        guard try asPostgres("psql", ["-h", socketDirectory, "-p", String(port), "-U", user, "-d", "postgres",
                                      "-v", "ON_ERROR_STOP=1", "-c", "CREATE DATABASE \(database)"]) else {
            throw Spawn.Failure(description: "CREATE DATABASE failed: see \(log)")
        }
    }

    /// Starts the server (again, after `stop` or `kill`); returns once it accepts connections.
    public func start(tcp: Bool = false) throws {
        let deadline = Date().addingTimeInterval(30)
        // After a kill the old backends end on their own once they notice; until then the new
        // postmaster refuses to start (their shared memory is in use): it is started again.
        while Date() < deadline {
            pid = try Spawn.start("/usr/bin/setpriv", ["--reuid=postgres", "--regid=postgres", "--init-groups", "--",
                                                       Self.bin + "/postgres", "-D", data, "-k", socketDirectory,
                                                       "-p", String(port), "-c", "listen_addresses=" + (tcp ? "127.0.0.1" : ""),
                                                       "-c", "max_connections=50", "-c", "fsync=on"], output: log)
            while Date() < deadline {
                if try asPostgres("pg_isready", ["-q", "-h", socketDirectory, "-p", String(port)]) { return }
                var status: Int32 = 0
                if waitpid(pid, &status, WNOHANG) == pid { pid = 0; break }
                usleep(100_000)
            }
            usleep(300_000)
        }
        throw Spawn.Failure(description: "postgres did not become ready in 30 s: see \(log)")
    }

    /// Fast shutdown (SIGINT): connections are ended, the server checkpoints and exits.
    public func stop() {
        guard pid > 0 else { return }
        kill(pid, SIGINT)
        Spawn.wait(pid)
        pid = 0
    }

    /// Kills the postmaster outright (SIGKILL; its backends end when they notice); `start`
    /// recovers from the WAL.
    public func kill9() {
        guard pid > 0 else { return }
        kill(pid, SIGKILL)
        Spawn.wait(pid)
        pid = 0
    }

    /// `configuration` (a karstd TOML: the built-in hub's text, or one without a `[state]`
    /// table) with its state in this cluster, as replica `replica` (`address`: what standbys
    /// say; `leaseSeconds`: with renewals every quarter of it).
    public func replicaConfiguration(_ configuration: String, replica: String, address: String? = nil,
                                     leaseSeconds: Double? = nil) -> String {
        var text = configuration.contains("[state]\n")
            ? configuration.replacingOccurrences(of: "[state]\n", with: "[state]\nbackend = \"postgres\"\n")
            : configuration + "\n[state]\nbackend = \"postgres\"\n"
        text += "\n[state.postgres]\nhost = \"\(socketDirectory)\"\nport = \(port)\nuser = \"\(user)\"\n"
            + "database = \"\(database)\"\nreplica = \"\(replica)\"\n"
        if let address { text += "address = \"\(address)\"\n" }
        if let leaseSeconds { text += "lease_seconds = \(leaseSeconds)\nrenew_seconds = \(leaseSeconds / 4)\n" }
        return text
    }

    /// Runs SQL as the superuser through psql (in `database`, by default the `karst` one); true
    /// on success.
    @discardableResult
    public func psql(_ sql: String, database: String? = nil) throws -> Bool {
        try asPostgres("psql", ["-h", socketDirectory, "-p", String(port), "-U", user, "-d", database ?? self.database,
                                "-v", "ON_ERROR_STOP=1", "-q", "-c", sql])
    }

    deinit { stop() }

    private func asPostgres(_ program: String, _ arguments: [String]) throws -> Bool {
        try Spawn.run("/usr/bin/setpriv", ["--reuid=postgres", "--regid=postgres", "--init-groups", "--", Self.bin + "/" + program]
                      + arguments, output: log)
    }
}
