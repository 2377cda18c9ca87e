import ArgumentParser
import Foundation
import KarstIDL

/// `karst-idlgen`: writes the Swift wire types of every `.varlink` file in a folder, or checks
/// that the committed ones are what the IDL gives (`make test` runs `--check`).
@main
struct KarstIDLGen: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "karst-idlgen",
        abstract: "Generate the control protocol's Swift wire types from its Varlink IDL.",
        discussion: """
            Each INTERFACES/NAME.varlink becomes OUTPUT/<Name>Interface.swift. With --check nothing
            is written: the command fails, naming each file, when a generated file differs from
            what the IDL gives or has no IDL any more.
            """)

    @Argument(help: ArgumentHelp("The folder of .varlink files.", valueName: "INTERFACES")) var interfaces: String
    @Argument(help: ArgumentHelp("The folder of generated Swift files.", valueName: "OUTPUT")) var output: String
    @Flag(help: "Compare instead of writing; exit 1 when anything is stale.") var check = false

    func run() throws {
        let fm = FileManager.default
        let idlFiles = try fm.contentsOfDirectory(atPath: interfaces).filter { $0.hasSuffix(".varlink") }.sorted()
        guard !idlFiles.isEmpty else { throw ValidationError("no .varlink files in \(interfaces)") }
        var expected: [String: String] = [:]
        for file in idlFiles {
            let text = try String(contentsOfFile: "\(interfaces)/\(file)", encoding: .utf8)
            let interface: VarlinkInterface
            do { interface = try VarlinkInterface(parsing: text) } catch {
                throw ValidationError("\(interfaces)/\(file): \(error)")
            }
            guard file == "\(interface.name).varlink" else {
                throw ValidationError("\(file) declares \(interface.name): name the file \(interface.name).varlink")
            }
            var emitter = SwiftEmitter(interface: interface, source: file)
            do { expected["\(SwiftEmitter.namespace(of: interface.name)).swift"] = try emitter.render() } catch {
                throw ValidationError(error.description)
            }
        }
        let existing = ((try? fm.contentsOfDirectory(atPath: output)) ?? []).filter { $0.hasSuffix(".swift") }
        var stale: [String] = []
        for (name, text) in expected.sorted(by: { $0.key < $1.key }) {
            let path = "\(output)/\(name)"
            if (try? String(contentsOfFile: path, encoding: .utf8)) == text { continue }
            stale.append(path)
            if !check {
                try fm.createDirectory(atPath: output, withIntermediateDirectories: true)
                try text.write(toFile: path, atomically: true, encoding: .utf8)
            }
        }
        for name in existing.sorted() where expected[name] == nil {
            stale.append("\(output)/\(name) (no IDL)")
            if !check { try fm.removeItem(atPath: "\(output)/\(name)") }
        }
        if check {
            guard stale.isEmpty else {
                for s in stale { print("stale: \(s)") }
                print("the generated wire types differ from the IDL: run `make generate` and commit the result")
                throw ExitCode(1)
            }
            print("generated wire types match the IDL (\(expected.count) interfaces)")
        } else {
            print(stale.isEmpty ? "generated wire types already up to date" : stale.map { "wrote \($0)" }.joined(separator: "\n"))
        }
    }
}
