import Foundation
import KarstConfig
import KarstProtocol
import KarstServer
import Testing

/// Roles from peer credentials: the test runs as root and calls the daemon a second time as
/// `nobody` (uid 65534) through `setpriv`, with the real `karstctl`.
@Suite(.serialized) struct PermissionTests {
    static var canSwitchUser: Bool {
        getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv")
            && FileManager.default.isExecutableFile(atPath: productsDirectory.appendingPathComponent("karstctl").path)
    }

    /// Runs karstctl as nobody; returns (status, stdout, stderr).
    func asNobody(_ d: LiveDaemon, _ args: [String]) throws -> (Int32, String, String) {
        let karstctl = productsDirectory.appendingPathComponent("karstctl").path
        return try runProcess("/usr/bin/setpriv",
                              ["--reuid=65534", "--regid=65534", "--clear-groups", karstctl] + args + ["--socket", d.socket],
                              environment: ["PATH": "/usr/bin:/bin"])
    }

    @Test(.enabled(if: canSwitchUser, "needs root, /usr/bin/setpriv and a built karstctl"))
    func submittersActForThemselvesOnly() async throws {
        // Everyone may submit (no submit groups); nobody is not an admin or executor.
        let d = try await LiveDaemon()
        let root = try d.connect()
        _ = try root.call("io.karst.Scheduler.Submit", jobParams(cpu: 1, memory: 1))  // job-1, tenant root

        let own = try asNobody(d, ["submit", "--origin", "local", "--class", "batch", "--cpu", "1", "--memory", "1"])
        #expect(own.0 == 0, "\(own.2)")
        #expect(own.1.hasPrefix("job-2 "))
        #expect(try root.call("io.karst.Scheduler.Get", ["id": .string("job-2")]).job()?.job("spec")?.string("tenant") == "nobody")

        // Reading is open to anyone who can open the socket.
        let list = try asNobody(d, ["list"])
        #expect(list.0 == 0)
        #expect(list.1.contains("job-1") && list.1.contains("job-2"))

        for args in [["cancel", "job-1"], ["hold", "job-1"],
                     ["submit", "--origin", "local", "--class", "batch", "--cpu", "1", "--memory", "1", "--tenant", "root"],
                     ["drain", "alpha"], ["complete", "job-2"], ["reload"]] {
            let r = try asNobody(d, args)
            #expect(r.0 == 1, "\(args): exit \(r.0)")
            #expect(r.2.contains("org.varlink.service.PermissionDenied"), "\(args): \(r.2)")
        }
        let cancelOwn = try asNobody(d, ["cancel", "job-2"])
        #expect(cancelOwn.0 == 0, "\(cancelOwn.2)")
        #expect(try root.call("io.karst.Scheduler.Get", ["id": .string("job-1")]).job()?.string("state") == "running")
        root.close()
        try await d.stop()
    }

    @Test(.enabled(if: canSwitchUser, "needs root, /usr/bin/setpriv and a built karstctl"))
    func submitGroupsKeepOthersToReading() async throws {
        let d = try await LiveDaemon(testConfiguration { $0.access.submitGroups = ["root"] })
        let denied = try asNobody(d, ["submit", "--origin", "local", "--class", "batch", "--cpu", "1", "--memory", "1"])
        #expect(denied.0 == 1)
        #expect(denied.2.contains("PermissionDenied"))
        #expect(try asNobody(d, ["topology"]).0 == 0)
        #expect(try d.connect().call("io.karst.Scheduler.List", [:])["jobs"]?.arrayValue?.isEmpty == true)
        try await d.stop()
    }
}
