import KarstCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension KarstConfiguration {
    /// Reads and validates a configuration file.
    public static func load(path: String) throws(ConfigError) -> KarstConfiguration {
        guard let text = readTextFile(path) else {
            throw ConfigError(source: path, issues: [
                ConfigIssue(path: "", message: "cannot read the file: \(String(cString: strerror(errno)))")
            ])
        }
        return try parse(text, source: path)
    }
}

/// The whole file as UTF-8 text, or nil when it cannot be read.
func readTextFile(_ path: String) -> String? {
    guard let f = fopen(path, "rb") else { return nil }
    defer { fclose(f) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65_536)
    while true {
        let n = fread(&buffer, 1, buffer.count, f)
        if n > 0 { bytes.append(contentsOf: buffer[0..<n]) }
        if n < buffer.count {
            if ferror(f) != 0 { return nil }
            break
        }
    }
    return String(decoding: bytes, as: UTF8.self)
}
