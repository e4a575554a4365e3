import Foundation
import XCTest
@testable import Storage

/// A lock-protected value that threads of one test share.
final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) { self.value = value }

    func withValue<T>(_ body: (inout Value) throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }

    var current: Value { withValue { $0 } }
}

/// One empty database for one test: a SQLite file in a temporary directory, or a fresh schema in the PostgreSQL
/// database named by `GUDOK_TEST_POSTGRES_URL` (scripts/with-postgres.sh sets it). `open()` gives an independent pool
/// on the same data, the way a second process would see it.
final class StorageFixture: @unchecked Sendable {
    let name: String
    private let url: String
    private let cleanupAction: () -> Void

    private init(name: String, url: String, cleanup: @escaping () -> Void) {
        self.name = name
        self.url = url
        self.cleanupAction = cleanup
    }

    func open() throws -> Database { try DatabaseURL.open(url) }

    func cleanup() { cleanupAction() }

    static func sqlite() throws -> StorageFixture {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gudok-storage-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return StorageFixture(name: "SQLite", url: "sqlite://" + directory.appendingPathComponent("test.sqlite3").path) {
            try? FileManager.default.removeItem(at: directory)
        }
    }

    static var postgresURL: String? {
        ProcessInfo.processInfo.environment["GUDOK_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Skips the calling test when no PostgreSQL is configured.
    static func postgres() throws -> StorageFixture {
        guard let base = postgresURL else {
            throw XCTSkip("GUDOK_TEST_POSTGRES_URL is not set; run under scripts/with-postgres.sh to test PostgreSQL")
        }
        let schema = "t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        let admin = try PostgresDatabase(connectionString: base)
        try admin.withConnection { try $0.execute("CREATE SCHEMA \(schema)", []) }
        let url = base + (base.contains("?") ? "&" : "?") + "options=-csearch_path%3D\(schema)"
        return StorageFixture(name: "PostgreSQL", url: url) {
            _ = try? admin.withConnection { try $0.execute("DROP SCHEMA \(schema) CASCADE", []) }
        }
    }
}

/// Runs `body` on `count` threads at once and waits for all of them.
func runConcurrently(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
    let group = DispatchGroup()
    let start = DispatchSemaphore(value: 0)
    for index in 0..<count {
        let thread = Thread {
            start.wait()
            body(index)
            group.leave()
        }
        group.enter()
        thread.start()
    }
    for _ in 0..<count { start.signal() }
    group.wait()
}
