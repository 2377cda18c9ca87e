import Foundation
import KarstSim

/// Whole files and the standard streams as bytes.
enum Streams {
    /// The bytes of `path`, or of standard input for `-`.
    static func read(_ path: String) throws -> [UInt8] {
        if path == "-" { return [UInt8](FileHandle.standardInput.readDataToEndOfFile()) }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SimError.trace("\(path): cannot be read (missing or not a file)")
        }
        return [UInt8](data)
    }

    /// Writes `text` to `path`, or to standard output for nil or `-`.
    static func write(_ text: String, to path: String?) throws {
        guard let path, path != "-" else {
            FileHandle.standardOutput.write(Data(text.utf8))
            return
        }
        guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8)) else {
            throw SimError.usage("\(path): cannot be written")
        }
    }

    static func error(_ text: String) { FileHandle.standardError.write(Data((text + "\n").utf8)) }

    static func isTerminal(_ fd: Int32) -> Bool { isatty(fd) == 1 }
}
