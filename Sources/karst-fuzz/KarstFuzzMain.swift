import KarstFuzz

#if canImport(Glibc)
import Glibc
#endif

#if KARST_FUZZ
/// libFuzzer's entry for a program with its own main (`-sanitize=fuzzer` links the driver).
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(_ argc: UnsafeMutablePointer<CInt>,
                     _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
                     _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

/// The target libFuzzer's C callback runs (set once, before the driver starts).
nonisolated(unsafe) var selected: FuzzTarget? = nil
#endif

/// `karst-fuzz TARGET [ARGS…]`: built with `-sanitize=fuzzer,address -DKARST_FUZZ` (`make fuzz`),
/// runs libFuzzer on TARGET with ARGS as libFuzzer's own (corpus directories, `-runs=N`,
/// `-max_total_time=S`); built plainly, replays the files and directories in ARGS through TARGET.
@main
enum KarstFuzzMain {
    static func main() {
        let args = CommandLine.arguments
        guard args.count >= 2, let target = FuzzTarget.named(args[1]) else {
            print("usage: karst-fuzz TARGET [libFuzzer flags | inputs…]; targets:")
            for t in FuzzTarget.all { print("  \(t.name)\t\(t.summary)") }
            exit(64)
        }
        #if KARST_FUZZ
        selected = target
        // libFuzzer sees argv without the target name.
        var argv: [UnsafeMutablePointer<CChar>?] = ([args[0]] + args.dropFirst(2)).map { strdup($0) } + [nil]
        var argc = CInt(argv.count - 1)
        let rc = argv.withUnsafeMutableBufferPointer { buffer -> CInt in
            var base = buffer.baseAddress!
            return runFuzzerDriver(&argc, &base) { data, size in
                selected!.run(UnsafeBufferPointer(start: data, count: size))
                return 0
            }
        }
        exit(rc)
        #else
        var count = 0
        for path in args.dropFirst(2) {
            for file in FuzzCorpus.files(at: path) {
                guard let bytes = FuzzCorpus.read(file) else { print("karst-fuzz: cannot read \(file)"); exit(66) }
                target(bytes)
                count += 1
            }
        }
        print("\(target.name): \(count) inputs replayed, none trapped")
        #endif
    }
}
