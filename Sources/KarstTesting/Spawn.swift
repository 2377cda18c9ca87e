import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Starting programs from tests and benchmarks with `posix_spawn`, by pid.
///
/// Not Foundation's `Process`: it waits on pipes a daemonizing child's descendants keep open, and
/// its bookkeeping races with tests that reap by pid. Children get a clean signal mask and
/// default signal handlers (a test process blocks signals its children would inherit).
public enum Spawn {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Starts `path` with `arguments`; standard input from /dev/null, output and errors appended
    /// to `output` (else /dev/null). `environment` entries are `KEY=value` (the test's own when nil).
    public static func start(_ path: String, _ arguments: [String], environment: [String]? = nil,
                             output: String? = nil) throws -> pid_t {
        let env = environment ?? ProcessInfo.processInfo.environment.map { "\($0.key)=\($0.value)" }
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        let envp = env.map { strdup($0) } + [nil]
        defer { for p in argv + envp { free(p) } }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        for fd: Int32 in [1, 2] {
            posix_spawn_file_actions_addopen(&actions, fd, output ?? "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0o644)
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, path, &actions, &attributes, argv, envp)
        guard rc == 0 else { throw Failure(description: "\(path): \(String(cString: strerror(rc)))") }
        return pid
    }

    /// Waits for `pid` to end; its wait status.
    @discardableResult
    public static func wait(_ pid: pid_t) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return status
    }

    /// Runs `path` to its end; true when it exits with status 0.
    @discardableResult
    public static func run(_ path: String, _ arguments: [String], environment: [String]? = nil, output: String? = nil) throws -> Bool {
        try wait(start(path, arguments, environment: environment, output: output)) == 0
    }
}
