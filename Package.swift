// swift-tools-version:6.0
import PackageDescription

let optimize: [SwiftSetting] = [.unsafeFlags(["-Ounchecked", "-target-cpu", "haswell"], .when(configuration: .release))]

let package = Package(
    name: "Octet",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "octet", targets: ["octet"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CLibEdit", path: "Sources/CLibEdit", pkgConfig: "libedit",
                       providers: [.apt(["libedit-dev"])]),
        .target(name: "CKernels", path: "Sources/CKernels",
                cSettings: [.unsafeFlags(["-O3", "-mavx2", "-mfma", "-fno-math-errno"])]),
        .systemLibrary(name: "CJPEG", path: "Sources/CJPEG", pkgConfig: "libjpeg",
                       providers: [.apt(["libjpeg62-turbo-dev"])]),
        .systemLibrary(name: "CPNG", path: "Sources/CPNG", pkgConfig: "libpng",
                       providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib",
                       providers: [.apt(["zlib1g-dev"])]),
        .target(name: "CImageIO", dependencies: ["CJPEG", "CPNG"], path: "Sources/CImageIO",
                cSettings: [.unsafeFlags(["-O2"])]),
        .target(name: "OctetTensor",
                dependencies: ["CBLAS", "CKernels", "CImageIO", "CJPEG", "CPNG", "CZlib"],
                swiftSettings: optimize),
        .target(name: "OctetGraph",
                dependencies: ["OctetTensor", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
                swiftSettings: optimize),
        .target(name: "OctetQuant", dependencies: ["OctetGraph", "CKernels"], swiftSettings: optimize),
        .target(name: "OctetDPU", dependencies: ["OctetGraph", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
                exclude: ["Schema/program.proto"], swiftSettings: optimize),
        .target(name: "OctetScript", dependencies: ["OctetQuant", "OctetDPU"], swiftSettings: optimize),
        .executableTarget(name: "octet",
                          dependencies: ["OctetScript", "CLibEdit",
                                         .product(name: "ArgumentParser", package: "swift-argument-parser")],
                          swiftSettings: optimize),
        .target(name: "OctetTestSupport", dependencies: ["OctetTensor"], path: "Tests/OctetTestSupport"),
        .testTarget(name: "OctetTensorTests", dependencies: ["OctetTensor", "OctetTestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "OctetGraphTests", dependencies: ["OctetGraph", "OctetTestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "OctetQuantTests", dependencies: ["OctetQuant", "OctetTestSupport"]),
        .testTarget(name: "OctetDPUTests", dependencies: ["OctetDPU", "OctetQuant", "OctetTestSupport"]),
        .testTarget(name: "OctetScriptTests", dependencies: ["OctetScript", "OctetTestSupport"], resources: [.copy("Scripts")]),
    ],
    swiftLanguageModes: [.v5]
)
