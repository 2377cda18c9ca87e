// swift-tools-version:6.1
import PackageDescription

/// The modules linked into karstctl give each function a section of its own in release builds,
/// so that karstctl's link can gather the code a call runs onto a few pages
/// (Sources/karstctl/karstctl.order; docs/BENCHMARKS.md, "karstctl start-up"). Not KarstCore:
/// it is a library product, and another package may not depend on one built with unsafe flags.
/// They also reach the metadata of generic types (an array of tuples, an optional of a struct)
/// through its accessor functions instead of by mangled name: the runtime then builds it without
/// demangling its name first, which cost a `karstctl submit` a sixth of its instructions.
let karstctlModules: [SwiftSetting] = [
    .unsafeFlags(["-Xfrontend", "-function-sections", "-Xfrontend", "-disable-concrete-type-metadata-mangled-name-accessors"],
                 .when(configuration: .release)),
]

/// Karst: a compute-capacity scheduler for the Guizhou computing hub.
///
/// Module arrows (see docs/ARCHITECTURE.md): KarstCore depends on the standard library and
/// swift-collections only; everything with I/O sits in the modules around it.
let package = Package(
    name: "karst",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "karstd", targets: ["karstd"]),
        .executable(name: "karstctl", targets: ["karstctl"]),
        .executable(name: "karst-sim", targets: ["karst-sim"]),
        .executable(name: "karst-bench", targets: ["karst-bench"]),
        .executable(name: "karst-fuzz", targets: ["karst-fuzz"]),
        .executable(name: "karst-agent", targets: ["karst-agent"]),
        .library(name: "KarstCore", targets: ["KarstCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/LebJe/TOMLKit.git", from: "0.6.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
    ],
    targets: [
        .target(
            name: "KarstCore",
            dependencies: [.product(name: "HeapModule", package: "swift-collections")]
        ),
        .target(
            name: "KarstConfig",
            dependencies: ["KarstCore", .product(name: "TOMLKit", package: "TOMLKit")],
            // The built-in hub, compiled in: a symlink to Config/karstd.toml (BuiltinConfig.swift).
            resources: [.embedInCode("Resources/karstd.toml")]
        ),
        .target(name: "KarstJSON", swiftSettings: karstctlModules),
        .target(
            name: "KarstStore",
            dependencies: ["KarstCore", "KarstJSON", "KarstProtocol", "KarstWire", "CKarstPosix",
                           .product(name: "GRDB", package: "GRDB.swift"), .product(name: "GRDBSQLite", package: "GRDB.swift")]
        ),
        // The state in PostgreSQL, shared by replicas behind a fenced leader lease.
        .target(
            name: "KarstPostgres",
            dependencies: ["KarstCore", "KarstConfig", "KarstJSON", "KarstStore", .product(name: "PostgresNIO", package: "postgres-nio"),
                           .product(name: "Logging", package: "swift-log"), .product(name: "NIOCore", package: "swift-nio"),
                           .product(name: "NIOPosix", package: "swift-nio")]
        ),
        // The Varlink IDL parser: no dependencies, so the generator builds even when the
        // generated code does not.
        .target(name: "KarstIDL", swiftSettings: karstctlModules),
        .executableTarget(
            name: "karst-idlgen",
            dependencies: ["KarstIDL", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .target(
            name: "KarstProtocol",
            dependencies: ["KarstJSON", "KarstIDL", .product(name: "NIOCore", package: "swift-nio")],
            // The served IDL, compiled in (EmbeddedInterfaces.swift): one line per interface.
            resources: [
                .embedInCode("Interfaces/io.karst.Admin.varlink"),
                .embedInCode("Interfaces/io.karst.Agent.varlink"),
                .embedInCode("Interfaces/io.karst.Protocol.varlink"),
                .embedInCode("Interfaces/io.karst.Scheduler.varlink"),
                .embedInCode("Interfaces/org.varlink.service.varlink"),
            ],
            swiftSettings: karstctlModules
        ),
        // The one mapping between the wire types and the core's.
        .target(name: "KarstWire", dependencies: ["KarstCore", "KarstProtocol"], swiftSettings: karstctlModules),
        .target(name: "CKarstPosix"),
        .systemLibrary(name: "CSystemd", pkgConfig: "libsystemd", providers: [.apt(["libsystemd-dev"])]),
        .target(
            name: "KarstSystemd",
            dependencies: [
                "CSystemd",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "KarstServer",
            dependencies: [
                "KarstCore", "KarstConfig", "KarstProtocol", "KarstWire", "KarstStore", "CKarstPosix",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "KarstClient",
            dependencies: ["KarstProtocol"],
            swiftSettings: karstctlModules
        ),
        .target(name: "KarstTesting", dependencies: ["KarstCore", "KarstConfig"]),
        .target(name: "KarstTrace", dependencies: ["KarstCore"], swiftSettings: karstctlModules),
        .target(
            name: "KarstSim",
            dependencies: ["KarstCore", "KarstConfig", "KarstTrace", "KarstJSON",
                           .product(name: "HeapModule", package: "swift-collections")]
        ),
        .executableTarget(
            name: "karstd",
            dependencies: [
                "KarstCore", "KarstConfig", "KarstServer", "KarstStore", "KarstPostgres", "KarstSystemd",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // karstctl's commands, a library so its tests can hold the fast path to ArgumentParser.
        .target(
            name: "KarstCLI",
            dependencies: [
                "KarstClient", "KarstProtocol", "KarstWire", "KarstTrace",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: karstctlModules
        ),
        .executableTarget(
            name: "karstctl",
            dependencies: ["KarstCLI"],
            exclude: ["karstctl.order"],
            swiftSettings: karstctlModules,
            // Statically linked, C library included: the loader has nothing to look up or
            // relocate at each start (docs/BENCHMARKS.md, "karstctl start-up"). The libraries
            // named are what the static Foundation essentials need when the rest of the build
            // links the Swift runtime dynamically. A release build is linked by lld with the
            // functions a call runs first, in the order karstctl.order lists them
            // (scripts/karstctl-order writes it): each page of code a call touches costs a
            // page fault, which on a virtual machine costs more than the code it maps.
            linkerSettings: [.unsafeFlags(["-static-executable"]), .linkedLibrary("_FoundationCollections"),
                             .linkedLibrary("_FoundationCShims"), .linkedLibrary("swiftSynchronization"),
                             .unsafeFlags(["-use-ld=lld",
                                           "-Xlinker", "--symbol-ordering-file=\(Context.packageDirectory)/Sources/karstctl/karstctl.order",
                                           "-Xlinker", "--no-warn-symbol-ordering"], .when(configuration: .release))]
        ),
        .executableTarget(
            name: "karst-sim",
            dependencies: [
                "KarstWire", "KarstProtocol", "KarstCore", "KarstConfig", "KarstSim", "KarstTrace",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "karst-bench",
            dependencies: [
                "KarstCore", "KarstConfig", "KarstTesting", "KarstClient", "KarstProtocol", "KarstStore", "KarstWire",
                "KarstPostgres",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Site agents: the loop, the process, Slurm and systemd backends, the TLS client of remote
        // agents, and the thin executable.
        .target(
            name: "KarstAgent",
            dependencies: ["KarstCore", "KarstProtocol", "KarstClient", "CKarstPosix", "CSystemd",
                           .product(name: "NIOCore", package: "swift-nio"),
                           .product(name: "NIOPosix", package: "swift-nio"),
                           .product(name: "NIOSSL", package: "swift-nio-ssl"),
                           .product(name: "NIOTLS", package: "swift-nio"),
                           .product(name: "Logging", package: "swift-log")]
        ),
        .executableTarget(
            name: "karst-agent",
            dependencies: ["KarstAgent", "KarstConfig", "KarstSystemd", .product(name: "Logging", package: "swift-log"),
                           .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        // In-process fuzz targets (libFuzzer under `make fuzz`; replayed by KarstFuzzTests).
        .target(
            name: "KarstFuzz",
            dependencies: ["KarstCore", "KarstConfig", "KarstJSON", "KarstProtocol", "KarstServer",
                           .product(name: "NIOCore", package: "swift-nio"),
                           .product(name: "NIOEmbedded", package: "swift-nio"),
                           .product(name: "Logging", package: "swift-log")]
        ),
        .executableTarget(name: "karst-fuzz", dependencies: ["KarstFuzz"]),
        .testTarget(name: "KarstFuzzTests", dependencies: ["KarstFuzz"]),
        .testTarget(name: "KarstCoreTests", dependencies: ["KarstCore", "KarstTesting"]),
        // karstctl's own code (its fast path against ArgumentParser's parse), in process.
        .testTarget(name: "KarstCLITests", dependencies: ["KarstCLI", "KarstClient", "KarstProtocol", "KarstCore",
                                                         .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .testTarget(name: "KarstWireTests", dependencies: ["KarstWire", "KarstProtocol", "KarstCore"]),
        .testTarget(name: "KarstConfigTests", dependencies: ["KarstConfig", "KarstCore", "KarstTesting"]),
        .testTarget(
            name: "KarstProtocolTests",
            dependencies: ["KarstProtocol", "KarstCore", .product(name: "NIOTestUtils", package: "swift-nio"),
                           .product(name: "NIOEmbedded", package: "swift-nio")]
        ),
        .testTarget(
            name: "KarstServerTests",
            dependencies: ["KarstServer", "KarstClient", "KarstProtocol", "KarstCore", "KarstConfig", "KarstTesting", "KarstStore",
                           "KarstAgent",
                           .product(name: "Logging", package: "swift-log"),
                           .product(name: "Prometheus", package: "swift-prometheus"),
                           .product(name: "NIOCore", package: "swift-nio"),
                           .product(name: "NIOPosix", package: "swift-nio")]
        ),
        .testTarget(
            name: "KarstPostgresTests",
            dependencies: ["KarstPostgres", "KarstStore", "KarstCore", "KarstConfig", "KarstTesting",
                           .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(
            name: "KarstStoreTests",
            dependencies: ["KarstStore", "KarstCore", "KarstTesting", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        .testTarget(name: "KarstSimTests", dependencies: ["KarstSim", "KarstTrace", "KarstCore", "KarstConfig", "KarstTesting",
                                                      "KarstJSON"]),
    ],
    swiftLanguageModes: [.v6]
)
