import ArgumentParser
import KarstConfig
import KarstCore

#if canImport(Glibc)
import Glibc
#endif

/// `karstd`: the Karst scheduler daemon.
@main
struct Karstd: ParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "karstd",
        abstract: "The Karst compute-capacity scheduler daemon for the Guizhou computing hub.",
        version: version)

    @Option(name: .customLong("check-config"), help: ArgumentHelp(
        "Validate a configuration file, print OK or every error, and exit (status 0 or 1).",
        valueName: "FILE"))
    var checkConfig: String?

    mutating func run() throws {
        if let path = checkConfig {
            do {
                let config = try KarstConfiguration.load(path: path)
                let t = config.topology
                let pools = t.datacenters.reduce(0) { $0 + $1.pools.count }
                print("OK: \(path): \(t.datacenters.count) data centres, \(pools) pools, "
                    + "\(t.regions.count) regions, \(t.classes.count) classes, \(t.tenants.count) tenants")
                return
            } catch {
                printError(error.description)
                throw ExitCode(1)
            }
        }
        printError("karstd: the daemon is not built yet in this version; use --check-config FILE or --version")
        throw ExitCode(2)
    }
}

func printError(_ text: String) {
    var stderr = StandardError()
    print(text, to: &stderr)
}

struct StandardError: TextOutputStream {
    mutating func write(_ string: String) {
        let bytes = Array(string.utf8)
        _ = bytes.withUnsafeBytes { Glibc.write(2, $0.baseAddress, $0.count) }
    }
}
