import ArgumentParser
import KarstCore
import KarstProtocol
import Testing

@testable import KarstCLI

/// karstctl's fast path (FastPath.swift) reads `submit` and `list` without ArgumentParser; these
/// tests hold it to ArgumentParser's reading of the same commands.
@Suite struct FastPathTests {
    /// The fast path's option tables name exactly the options ArgumentParser derives from the
    /// commands' definitions, with the same kind (ArgumentParser's own description of them, as
    /// `karstctl --experimental-dump-help` prints it).
    @Test func theTablesMatchArgumentParsersDefinitions() throws {
        let message = Karstctl.fullMessage(for: catchError { try Karstctl.parseAsRoot(["--experimental-dump-help"]) })
        guard case .object(let root)? = try? JSONParser.parse(Array(message.utf8)),
              case .array(let subcommands)? = root["command"]?.objectValue?["subcommands"] else {
            Issue.record("no tool description: \(message.prefix(200))")
            return
        }
        for (name, table) in [("submit", FastPath.submitOptions), ("list", FastPath.listOptions)] {
            guard let command = subcommands.first(where: { $0.objectValue?["commandName"]?.stringValue == name })?.objectValue,
                  case .array(let arguments)? = command["arguments"] else {
                Issue.record("no \(name) in the tool description")
                continue
            }
            var derived: [String: FastPath.Kind] = [:]
            for case .object(let a) in arguments {
                let kind = a["kind"]?.stringValue
                let repeating = a["isRepeating"]?.boolValue ?? false
                let longs = (a["names"]?.arrayValue ?? []).compactMap { n -> String? in
                    n.objectValue?["kind"]?.stringValue == "long" ? n.objectValue?["name"]?.stringValue : nil
                }
                guard let first = longs.first, first != "help", first != "version" else { continue }
                if first.hasPrefix("no-"), derived[String(first.dropFirst(3))] == .flag {
                    // ArgumentParser describes `--x/--no-x` as two flags.
                    derived[String(first.dropFirst(3))] = .inversion
                } else if longs.contains(where: { $0.hasPrefix("no-") }) {
                    derived[first] = .inversion
                } else if kind == "flag" {
                    derived[first] = .flag
                } else if kind == "option" {
                    derived[first] = repeating ? .repeating : .value
                }
            }
            #expect(table.entries.count == table.values.count + table.repeating.count + table.flags.count + table.inversions.count,
                    "\(name): an option listed under two kinds")
            let table = table.entries
            #expect(derived == table, "\(name): ArgumentParser \(derived.sorted { $0.key < $1.key }), fast path \(table.sorted { $0.key < $1.key })")
        }
    }

    /// The common shapes go the fast way (else the start-up figures would measure nothing).
    @Test func scriptsCommonCallsAreReadByTheFastPath() throws {
        let calls: [[String]] = [
            ["--origin", "gba", "--class", "batch", "--cpu", "4", "--memory", "16", "--duration", "30m"],
            ["--origin=yrd", "--class=online", "--cpu=0.5", "--memory=1", "--label", "a=b", "--env", "X=1", "--",
             "/bin/sh", "-c", "echo --json"],
            ["--origin", "local", "--class", "batch", "--cpu", "1", "--memory", "1", "--array", "0-9", "--json"],
        ]
        for argv in calls {
            let fast = try #require(Self.fastSubmit(argv), "declined: \(argv)")
            #expect(try Submit.parse(argv).flags == fast)
        }
        for argv in [[], ["-o", "wide"], ["--state", "pending", "--limit", "50", "--after", "job-9", "--json"], ["--all", "-o", "jsonl"]] {
            let fast = try #require(Self.fastList(argv), "declined: \(argv)")
            #expect(try List.parse(argv).flags == fast)
        }
    }

    /// Random calls, well and badly formed: whenever the fast path reads one, ArgumentParser
    /// reads it too, to the same flags. (Where it declines, ArgumentParser alone reads it.)
    @Test func whatTheFastPathReadsArgumentParserReadsTheSame() throws {
        var rng = SeededRandom(seed: 0x4B41_5253)
        var read = 0
        for _ in 0..<3000 {
            let argv = Self.randomCall(&rng, FastPath.submitOptions, command: true)
            if let fast = Self.fastSubmit(argv) {
                read += 1
                let ap = try? Submit.parse(argv)
                #expect(ap?.flags == fast, "\(argv)")
            }
        }
        for _ in 0..<1500 {
            let argv = Self.randomCall(&rng, FastPath.listOptions, command: false)
            if let fast = Self.fastList(argv) {
                read += 1
                let ap = try? List.parse(argv)
                #expect(ap?.flags == fast, "\(argv)")
            }
        }
        // Enough of them were well formed to say something.
        #expect(read > 500, "only \(read) calls read by the fast path")
    }

    static let values = ["gba", "4", "0", "+3", "0.5", "1e3", "x", "", "-1", "--json", "a=b", "=b", "job-7", "0-9,12", "table",
                         "wide", "pending", "二", "--", "-o", "-", "-ow", "-o=wide"]

    /// The fast path's reading of a submit, nil where it declines.
    static func fastSubmit(_ argv: [String]) -> SubmitFlags? {
        try? FastPath.submitFlags(FastPath.Parsed(argv[...], FastPath.submitOptions, terminator: true))
    }

    /// The fast path's reading of a list, nil where it declines.
    static func fastList(_ argv: [String]) -> ListFlags? {
        try? FastPath.listFlags(FastPath.Parsed(argv[...], FastPath.listOptions, terminator: false))
    }

    static func randomCall(_ rng: inout SeededRandom, _ table: FastPath.OptionTable, command: Bool) -> [String] {
        let options = table.entries
        let names = options.keys.sorted() + ["bogus", "no-json", "help"]
        var argv: [String] = []
        for _ in 0..<rng.below(7) {
            let name = names[rng.below(names.count)]
            switch rng.below(10) {
            case 0: argv.append(values[rng.below(values.count)])                       // a stray word
            case 1: argv.append("--\(name)=\(values[rng.below(values.count)])")
            case 2: argv += ["-o", values[rng.below(values.count)]]
            case 3 where options[name] == .inversion: argv.append("--no-\(name)")
            default:
                argv.append("--\(name)")
                if options[name] != .flag && options[name] != .inversion || rng.below(8) == 0 {
                    argv.append(values[rng.below(values.count)])
                }
            }
        }
        if command && rng.below(3) == 0 {
            argv.append("--")
            for _ in 0..<rng.below(3) { argv.append(values[rng.below(values.count)]) }
        }
        return argv
    }
}

/// The error a call throws (the test expects one).
private func catchError(_ body: () throws -> Any) -> Error {
    do { _ = try body(); return CancellationError() } catch { return error }
}

extension SeededRandom {
    /// 0 ..< n (0 when n is 0).
    fileprivate mutating func below(_ n: Int) -> Int { n <= 0 ? 0 : Int(next() % UInt64(n)) }
}
