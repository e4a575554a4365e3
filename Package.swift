// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "gudok",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "gudok", targets: ["gudok"]),
        .executable(name: "toss-sandbox", targets: ["toss-sandbox"]),
    ],
    targets: [
        // C libraries from Debian, wrapped as system-library targets.
        .systemLibrary(name: "CFastCGI", path: "Sources/CFastCGI", pkgConfig: "fcgi",
                       providers: [.apt(["libfcgi-dev"])]),
        .systemLibrary(name: "CSQLite", path: "Sources/CSQLite", pkgConfig: "sqlite3",
                       providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CLibPQ", path: "Sources/CLibPQ", pkgConfig: "libpq",
                       providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "CCrypto", path: "Sources/CCrypto", pkgConfig: "libcrypto",
                       providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CCurl", path: "Sources/CCurl", pkgConfig: "libcurl",
                       providers: [.apt(["libcurl4-openssl-dev"])]),

        // The one module that wraps libcrypto.
        .target(name: "Crypto", dependencies: ["CCrypto"]),
        .target(name: "FastCGI", dependencies: ["CFastCGI", "Web", "Crypto"]),
        // JSON values, a strict parser and a serializer, shared by the web layer and the Toss client.
        .target(name: "JSON"),
        .target(name: "Web", dependencies: ["JSON"]),
        .target(name: "Billing"),
        .target(name: "Storage", dependencies: ["CSQLite", "CLibPQ"]),
        .target(name: "Toss", dependencies: ["CCurl", "JSON"]),
        .target(name: "TossSandbox", dependencies: ["Crypto", "JSON"]),
        .target(name: "App", dependencies: ["Web", "Billing", "Storage", "Toss", "Crypto"]),
        .executableTarget(name: "gudok", dependencies: ["App", "FastCGI"]),
        .executableTarget(name: "toss-sandbox", dependencies: ["TossSandbox"]),

        .testTarget(name: "WebTests", dependencies: ["Web", "Crypto", "JSON"]),
        .testTarget(name: "BillingTests", dependencies: ["Billing"]),
        .testTarget(name: "StorageTests", dependencies: ["Storage"]),
        .testTarget(name: "TossTests", dependencies: ["Toss", "TossSandbox", "JSON"]),
        .testTarget(name: "AppTests", dependencies: ["App", "Web", "Storage", "Billing", "Crypto", "Toss"]),
        .testTarget(name: "FastCGITests", dependencies: ["FastCGI", "Web", "Crypto"]),
    ],
    swiftLanguageModes: [.v6]
)
