import Foundation
import Testing

/// A third-party Varlink client (the reference Python library from PyPI) against the real
/// `karstd` binary: proof that standard clients work unchanged.
@Suite struct InteropTests {
    static var pythonVarlink: Bool {
        (try? runProcess("/usr/bin/env", ["python3", "-c", "import varlink"]).0) == 0
    }

    static var python3: Bool {
        (try? runProcess("/usr/bin/env", ["python3", "-c", ""]).0) == 0
    }

    static var repoRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    @Test(.enabled(if: pythonVarlink, "needs python3 with the varlink package (make test installs it)"))
    func thePythonVarlinkLibraryDrivesTheDaemon() async throws {
        let dir = shortTempDir()
        let socket = dir + "/k.sock"
        let daemon = Process()
        daemon.executableURL = productsDirectory.appendingPathComponent("karstd")
        daemon.arguments = ["--socket", socket, "--state-dir", dir + "/state", "--time-scale", "600", "--log-level", "warning"]
        let log = Pipe()
        daemon.standardError = log
        try daemon.run()
        defer {
            if daemon.isRunning { daemon.terminate() }
            daemon.waitUntilExit()
            try? FileManager.default.removeItem(atPath: dir)
        }
        #expect(try await eventually { FileManager.default.fileExists(atPath: socket) })
        let script = Self.repoRoot.appendingPathComponent("Tests/interop/varlink_interop.py").path
        let (status, out, err) = try runProcess("/usr/bin/env", ["python3", script, socket])
        print(out)
        #expect(status == 0, "\(out)\n\(err)")
        #expect(out.contains("interop: all checks passed"))
        daemon.terminate()
        daemon.waitUntilExit()
        #expect(daemon.terminationStatus == 0, "karstd should exit 0 on SIGTERM")
    }
}
