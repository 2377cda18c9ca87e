import Foundation
import KarstProtocol
import Testing

/// The compiled-in interface descriptions are the `.varlink` files beside EmbeddedInterfaces.swift,
/// byte for byte (SwiftPM `.embedInCode`), and none of Karst's own interfaces is left out.
@Suite struct EmbeddedInterfacesTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Sources/KarstProtocol/Interfaces")

    @Test func eachDescriptionIsItsFileUnchanged() throws {
        #expect(!EmbeddedInterfaces.descriptions.isEmpty)
        for (name, text) in EmbeddedInterfaces.descriptions {
            let file = try Data(contentsOf: Self.folder.appendingPathComponent(name + ".varlink"))
            #expect(Array(text.utf8) == Array(file), "\(name).varlink")
        }
    }

    @Test func everyKarstInterfaceFileIsEmbedded() throws {
        let karst = try FileManager.default.contentsOfDirectory(atPath: Self.folder.path)
            .filter { $0.hasPrefix("io.karst.") && $0.hasSuffix(".varlink") }
            .map { String($0.dropLast(".varlink".count)) }
        #expect(Set(karst).isSubset(of: EmbeddedInterfaces.descriptions.keys),
                "add the file to KarstProtocol's resources in Package.swift and to EmbeddedInterfaces.swift")
    }
}
