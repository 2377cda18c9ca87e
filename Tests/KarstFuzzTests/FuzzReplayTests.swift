import Foundation
import KarstFuzz
import Testing

/// Every committed fuzz input — the seed corpus and each crash ever found, kept as a regression —
/// runs through its target in the ordinary test build: nothing traps, every property holds.
@Suite struct FuzzReplayTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("fuzz").path

    @Test(arguments: FuzzTarget.all.map(\.name))
    func committedInputsReplay(_ name: String) throws {
        let target = try #require(FuzzTarget.named(name))
        let seeds = FuzzCorpus.files(at: "\(Self.root)/corpus/\(name)")
        #expect(!seeds.isEmpty, "target \(name) has no seed corpus")
        for file in seeds + FuzzCorpus.files(at: "\(Self.root)/regressions/\(name)") {
            target(try #require(FuzzCorpus.read(file), "\(file)"))
        }
    }
}
