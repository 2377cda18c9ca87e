import Foundation
import Synchronization

/// Short-named temporary directories for tests (a Unix socket path must fit in 108 bytes),
/// removed with everything in them when the test process exits, so that runs of the suite do
/// not pile up state directories and sockets in `/tmp`.
public enum TemporaryDirectories {
    private static let made = Mutex<[String]>([])
    private static let removeAtExit: Void = { atexit { TemporaryDirectories.removeAll() } }()

    /// A new directory `/tmp/<prefix>-XXXXXX` (mode 0755).
    public static func make(prefix: String) -> String {
        _ = removeAtExit
        var template = Array("/tmp/\(prefix)-XXXXXX".utf8CString)
        let dir = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
        chmod(dir, 0o755)
        made.withLock { $0.append(dir) }
        return dir
    }

    static func removeAll() {
        for dir in made.withLock({ $0 }) { try? FileManager.default.removeItem(atPath: dir) }
    }
}
