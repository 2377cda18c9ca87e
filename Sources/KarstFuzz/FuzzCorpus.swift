import Foundation

/// The committed inputs of a target: its seed corpus (`Tests/fuzz/corpus/TARGET`) and every crash
/// ever found, kept as a regression (`Tests/fuzz/regressions/TARGET`).
public enum FuzzCorpus {
    /// The files at `path`: the file itself, or every regular file in the directory, sorted.
    public static func files(at path: String) -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return [] }
        guard isDirectory.boolValue else { return [path] }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        return names.sorted().map { path + "/" + $0 }.filter {
            var d: ObjCBool = false
            return FileManager.default.fileExists(atPath: $0, isDirectory: &d) && !d.boolValue
        }
    }

    public static func read(_ file: String) -> [UInt8]? {
        FileManager.default.contents(atPath: file).map { [UInt8]($0) }
    }
}
