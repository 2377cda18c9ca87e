import ArgumentParser

#if canImport(Glibc)
import Glibc
#endif

/// The calls scripts make in loops — `submit` with flags, `list`, `--version` — read without
/// ArgumentParser. Its parse reflects over every option of the command (Mirror, generic
/// metadata, protocol-conformance scans) and costs more CPU than the rest of a `karstctl submit`
/// together (docs/BENCHMARKS.md, "karstctl start-up"). This reader covers exactly the plain
/// shapes of those commands: long options from the same names ArgumentParser derives
/// (`--name value` or `--name=value`), `-o` for list, `--` then the command for submit. Anything
/// else — help, a short option it does not know, a repeated single option, a value that starts
/// with `-`, a number that does not read — it declines, and ArgumentParser parses the call as
/// always (errors and help included). `KarstctlFastPathTests` checks the tables below against
/// ArgumentParser's own description of the commands and both parsers against the same calls;
/// `KARSTCTL_NO_FAST_PATH=1` turns it off.
enum FastPath {
    /// How a long option takes its value.
    enum Kind: Equatable { case value, repeating, flag, inversion }

    /// The options of the commands read here, by long name, as ArgumentParser names them. (Pairs,
    /// not a dictionary: building a dictionary at every start costs more than the lookups.)
    static let submitOptions: KeyValuePairs<String, Kind> = [
        "socket": .value, "json": .flag, "name": .value, "tenant": .value, "origin": .value, "class": .value,
        "priority": .value, "cpu": .value, "memory": .value, "accelerators": .value, "accelerator-model": .value,
        "replicas": .value, "duration": .value, "max-latency": .value, "datacenter": .repeating,
        "preemptible": .inversion, "deadline": .value, "not-before": .value, "not-after": .value, "after": .repeating,
        "max-retries": .value, "label": .repeating, "env": .repeating, "workdir": .value, "dry-run": .flag,
        "array": .value, "file": .value,
    ]
    static let listOptions: KeyValuePairs<String, Kind> = [
        "socket": .value, "json": .flag, "state": .value, "tenant": .value, "datacenter": .value, "limit": .value,
        "after": .value, "all": .flag, "output": .value,
    ]

    /// The exit status of the call if this reader ran it; nil to leave it to ArgumentParser.
    static func run(_ arguments: ArraySlice<String>) -> Int32? {
        guard let command = arguments.first else { return nil }
        do {
            switch command {
            case "--version" where arguments.count == 1:
                print(Karstctl.version)
                return 0
            case "submit":
                guard let p = Parsed(arguments.dropFirst(), submitOptions, terminator: true),
                      let flags = submitFlags(p) else { return nil }
                try flags.run()
                return 0
            case "list":
                guard let p = Parsed(arguments.dropFirst(), listOptions, terminator: false, short: ["o": "output"]),
                      let flags = listFlags(p) else { return nil }
                try flags.run()
                return 0
            default:
                return nil
            }
        } catch is ValidationError {
            // A usage error, found before anything was sent: ArgumentParser says it as it does.
            return nil
        } catch let e as ExitCode {
            return e.rawValue
        } catch {
            Karstctl.exit(withError: error)
        }
    }

    /// Long options and their values, as ArgumentParser would take them, or nil.
    struct Parsed {
        /// (Arrays of pairs, not dictionaries: see `submitOptions`.)
        private var valuePairs: [(name: String, value: String)] = []
        private var listPairs: [(name: String, value: String)] = []
        private var flagPairs: [(name: String, on: Bool)] = []
        var rest: [String] = []

        func value(_ name: String) -> String? { valuePairs.first { $0.name == name }?.value }
        func list(_ name: String) -> [String] { listPairs.filter { $0.name == name }.map(\.value) }
        func flag(_ name: String) -> Bool? { flagPairs.first { $0.name == name }?.on }

        init?(_ arguments: ArraySlice<String>, _ options: KeyValuePairs<String, Kind>, terminator: Bool,
              short: KeyValuePairs<String, String> = [:]) {
            func lookup<V>(_ pairs: KeyValuePairs<String, V>, _ key: String) -> V? { pairs.first { $0.key == key }?.value }
            var i = arguments.startIndex
            while i < arguments.endIndex {
                let arg = arguments[i]
                i += 1
                if arg == "--" {
                    guard terminator else { return nil }
                    rest = Array(arguments[i...])
                    break
                }
                var name: String
                var inline: String? = nil
                if arg.hasPrefix("--") {
                    let body = arg.dropFirst(2)
                    if let eq = body.firstIndex(of: "=") {
                        name = String(body[..<eq])
                        inline = String(body[body.index(after: eq)...])
                    } else {
                        name = String(body)
                    }
                } else if arg.hasPrefix("-"), let long = lookup(short, String(arg.dropFirst())) {
                    name = long
                } else {
                    return nil
                }
                var kind = lookup(options, name)
                var on = true
                if kind == nil, name.hasPrefix("no-"), lookup(options, String(name.dropFirst(3))) == .inversion {
                    name = String(name.dropFirst(3))
                    kind = .inversion
                    on = false
                }
                switch kind {
                case nil: return nil
                case .flag?, .inversion?:
                    guard inline == nil, flag(name) == nil else { return nil }
                    flagPairs.append((name, on))
                case .value?, .repeating?:
                    let value: String
                    if let inline { value = inline } else {
                        guard i < arguments.endIndex else { return nil }
                        value = arguments[i]
                        i += 1
                    }
                    // ArgumentParser takes neither `--x=` nor a value that looks like an option.
                    guard !value.hasPrefix("-"), inline != "" else { return nil }
                    if kind == .value {
                        guard self.value(name) == nil else { return nil }
                        valuePairs.append((name, value))
                    } else {
                        listPairs.append((name, value))
                    }
                }
            }
        }

        /// An integer option as `Int(argument:)` reads it; `.some(nil)` when it does not read.
        func int(_ name: String) -> Int?? {
            guard let v = value(name) else { return .some(nil) }
            return Int(v).map { .some($0) } ?? nil
        }

        func double(_ name: String) -> Double?? {
            guard let v = value(name) else { return .some(nil) }
            return Double(v).map { .some($0) } ?? nil
        }
    }

    static func submitFlags(_ p: Parsed) -> SubmitFlags? {
        // A file may be standard input, which cannot be read twice should ArgumentParser have to
        // say something about it: files go the long way (a bulk call is no loop).
        guard p.value("file") == nil else { return nil }
        guard let priority = p.int("priority"), let cpu = p.double("cpu"), let memory = p.double("memory"),
              let accelerators = p.int("accelerators"), let replicas = p.int("replicas"),
              let maxLatency = p.int("max-latency"), let maxRetries = p.int("max-retries") else { return nil }
        let v = p.value
        return SubmitFlags(
            socket: v("socket"), json: p.flag("json") ?? false, file: nil, name: v("name"), tenant: v("tenant"),
            origin: v("origin"), priorityClass: v("class"), priority: priority, cpu: cpu, memory: memory,
            accelerators: accelerators, acceleratorModel: v("accelerator-model"), replicas: replicas,
            duration: v("duration"), maxLatency: maxLatency, datacenters: p.list("datacenter"),
            preemptible: p.flag("preemptible"), deadline: v("deadline"), notBefore: v("not-before"),
            notAfter: v("not-after"), dependsOn: p.list("after"), maxRetries: maxRetries,
            labels: p.list("label"), environment: p.list("env"), workingDirectory: v("workdir"),
            dryRun: p.flag("dry-run") ?? false, array: v("array"), command: p.rest)
    }

    static func listFlags(_ p: Parsed) -> ListFlags? {
        guard let limit = p.int("limit") else { return nil }
        let v = p.value
        return ListFlags(socket: v("socket"), json: p.flag("json") ?? false, state: v("state"), tenant: v("tenant"),
                         datacenter: v("datacenter"), limit: limit, after: v("after"), all: p.flag("all") ?? false,
                         format: v("output"))
    }
}
