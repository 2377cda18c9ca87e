/// The Varlink interface descriptions the daemon serves, keyed by interface name.
///
/// Each is the exact text of the `.varlink` file of that name in this folder, compiled in by
/// SwiftPM at build time (`.embedInCode` in Package.swift). To serve another interface, add its
/// file here, one line in the target's `resources` and one line below.
public enum EmbeddedInterfaces {
    public static let descriptions: [String: String] = [
        "io.karst.Admin": text(PackageResources.io_karst_Admin_varlink),
        "io.karst.Agent": text(PackageResources.io_karst_Agent_varlink),
        "io.karst.Protocol": text(PackageResources.io_karst_Protocol_varlink),
        "io.karst.Scheduler": text(PackageResources.io_karst_Scheduler_varlink),
        "org.varlink.service": text(PackageResources.org_varlink_service_varlink),
    ]

    /// The interfaces served, in `GetInfo` order: the standard one first, then Karst's by name.
    public static let names: [String] = ["org.varlink.service"]
        + descriptions.keys.filter { $0 != "org.varlink.service" }.sorted()

    private static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }
}
