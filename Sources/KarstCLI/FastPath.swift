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
/// always (errors and help included). `FastPathTests` checks the tables below against
/// ArgumentParser's own description of the commands and both parsers against the same calls;
/// `KARSTCTL_NO_FAST_PATH=1` turns it off.
enum FastPath {
    /// How a long option takes its value.
    enum Kind: Equatable { case value, repeating, flag, inversion }

    /// The options of a command read here, by long name, as ArgumentParser names them.
    ///
    /// Lists of names, one per kind: the types a start builds are then arrays of strings, which
    /// it builds anyway. (A dictionary, or pairs of a name and a kind, would each make the
    /// runtime build its generic metadata at every start, and cost more than the lookups.)
    struct OptionTable {
        /// Options that take one value (`--cpu 4`); given twice, the call is declined.
        var values: [String]
        /// Options that take a value and may be given again (`--label a=b --label c=d`).
        var repeating: [String] = []
        /// Flags without a value (`--json`).
        var flags: [String] = []
        /// Flags that come as a pair (`--preemptible`, `--no-preemptible`).
        var inversions: [String] = []
        /// Single-letter options as `letter=long name`.
        var shorts: [String] = []

        /// How the long option `name` takes its value; nil for an option the command lacks.
        func kind(_ name: String) -> Kind? {
            if values.contains(name) { return .value }
            if repeating.contains(name) { return .repeating }
            if flags.contains(name) { return .flag }
            if inversions.contains(name) { return .inversion }
            return nil
        }

        /// The long name `-letter` stands for.
        func long(short letter: Substring) -> String? {
            for s in shorts where s.hasPrefix(letter) && s.dropFirst(letter.count).first == "=" {
                return String(s.dropFirst(letter.count + 1))
            }
            return nil
        }

        /// Every long option and its kind (for the tests).
        var entries: [String: Kind] {
            var all: [String: Kind] = [:]
            for n in values { all[n] = .value }
            for n in repeating { all[n] = .repeating }
            for n in flags { all[n] = .flag }
            for n in inversions { all[n] = .inversion }
            return all
        }
    }

    static let submitOptions = OptionTable(
        values: ["socket", "name", "tenant", "origin", "class", "priority", "cpu", "memory", "accelerators",
                 "accelerator-model", "replicas", "duration", "max-latency", "deadline", "not-before", "not-after",
                 "max-retries", "workdir", "array", "file"],
        repeating: ["datacenter", "after", "label", "env"],
        flags: ["json", "dry-run"],
        inversions: ["preemptible"])
    static let listOptions = OptionTable(
        values: ["socket", "state", "tenant", "datacenter", "limit", "after", "output"],
        flags: ["json", "all"],
        shorts: ["o=output"])

    /// A call's shape is not one this reader takes: ArgumentParser reads it.
    struct Declined: Error {}

    /// The exit status of the call if this reader ran it; nil to leave it to ArgumentParser.
    static func run(_ arguments: ArraySlice<String>) -> Int32? {
        guard let command = arguments.first else { return nil }
        do {
            switch command {
            case "--version" where arguments.count == 1:
                printLine(Karstctl.version)
                return 0
            case "submit":
                // (Flags returned, or the call declined: a `SubmitFlags?` would make the runtime
                // build the metadata of its optional at every start.)
                let flags: SubmitFlags
                do throws(Declined) {
                    flags = try submitFlags(Parsed(arguments.dropFirst(), submitOptions, terminator: true))
                } catch { return nil }
                try flags.run()
                return 0
            case "list":
                let flags: ListFlags
                do throws(Declined) {
                    flags = try listFlags(Parsed(arguments.dropFirst(), listOptions, terminator: false))
                } catch { return nil }
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

    /// Long options and their values, as ArgumentParser would take them, or `Declined`.
    struct Parsed {
        /// Names and values side by side (arrays of strings only: see `OptionTable`).
        private var valueNames: [String] = []
        private var values: [String] = []
        private var listNames: [String] = []
        private var listValues: [String] = []
        private var flagsOn: [String] = []
        private var flagsOff: [String] = []
        var rest: [String] = []

        func value(_ name: String) -> String? { valueNames.firstIndex(of: name).map { values[$0] } }

        func list(_ name: String) -> [String] {
            var out: [String] = []
            for i in listNames.indices where listNames[i] == name { out.append(listValues[i]) }
            return out
        }

        func flag(_ name: String) -> Bool? {
            if flagsOn.contains(name) { return true }
            if flagsOff.contains(name) { return false }
            return nil
        }

        init(_ arguments: ArraySlice<String>, _ options: OptionTable, terminator: Bool) throws(Declined) {
            var i = arguments.startIndex
            while i < arguments.endIndex {
                let arg = arguments[i]
                i += 1
                if arg == "--" {
                    guard terminator else { throw Declined() }
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
                } else if arg.hasPrefix("-"), let long = options.long(short: arg.dropFirst()) {
                    name = long
                } else {
                    throw Declined()
                }
                var kind = options.kind(name)
                var on = true
                if kind == nil, name.hasPrefix("no-"), options.kind(String(name.dropFirst(3))) == .inversion {
                    name = String(name.dropFirst(3))
                    kind = .inversion
                    on = false
                }
                switch kind {
                case nil: throw Declined()
                case .flag?, .inversion?:
                    guard inline == nil, flag(name) == nil else { throw Declined() }
                    if on { flagsOn.append(name) } else { flagsOff.append(name) }
                case .value?, .repeating?:
                    let value: String
                    if let inline { value = inline } else {
                        guard i < arguments.endIndex else { throw Declined() }
                        value = arguments[i]
                        i += 1
                    }
                    // ArgumentParser takes neither `--x=` nor a value that looks like an option.
                    guard !value.hasPrefix("-"), inline != "" else { throw Declined() }
                    if kind == .value {
                        guard self.value(name) == nil else { throw Declined() }
                        valueNames.append(name)
                        values.append(value)
                    } else {
                        listNames.append(name)
                        listValues.append(value)
                    }
                }
            }
        }

        /// An integer option as `Int(argument:)` reads it, nil when absent; `Declined` when it
        /// does not read.
        func int(_ name: String) throws(Declined) -> Int? {
            guard let v = value(name) else { return nil }
            guard let n = Int(v) else { throw Declined() }
            return n
        }

        func double(_ name: String) throws(Declined) -> Double? {
            guard let v = value(name) else { return nil }
            guard let d = Double(v) else { throw Declined() }
            return d
        }
    }

    static func submitFlags(_ p: Parsed) throws(Declined) -> SubmitFlags {
        // A file may be standard input, which cannot be read twice should ArgumentParser have to
        // say something about it: files go the long way (a bulk call is no loop).
        guard p.value("file") == nil else { throw Declined() }
        let v = p.value
        return SubmitFlags(
            socket: v("socket"), json: p.flag("json") ?? false, file: nil, name: v("name"), tenant: v("tenant"),
            origin: v("origin"), priorityClass: v("class"), priority: try p.int("priority"), cpu: try p.double("cpu"),
            memory: try p.double("memory"), accelerators: try p.int("accelerators"),
            acceleratorModel: v("accelerator-model"), replicas: try p.int("replicas"), duration: v("duration"),
            maxLatency: try p.int("max-latency"), datacenters: p.list("datacenter"), preemptible: p.flag("preemptible"),
            deadline: v("deadline"), notBefore: v("not-before"), notAfter: v("not-after"), dependsOn: p.list("after"),
            maxRetries: try p.int("max-retries"), labels: p.list("label"), environment: p.list("env"),
            workingDirectory: v("workdir"), dryRun: p.flag("dry-run") ?? false, array: v("array"), command: p.rest)
    }

    static func listFlags(_ p: Parsed) throws(Declined) -> ListFlags {
        let v = p.value
        return ListFlags(socket: v("socket"), json: p.flag("json") ?? false, state: v("state"), tenant: v("tenant"),
                         datacenter: v("datacenter"), limit: try p.int("limit"), after: v("after"),
                         all: p.flag("all") ?? false, format: v("output"))
    }
}
