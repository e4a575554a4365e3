import Foundation
import Storage

/// Where "now" comes from. Production reads the system clock; with `GUDOK_TEST_CLOCK=1` every process reads the
/// clock kept in the database (`gudok clock set/advance/reset`), falling back to real time when it is not set.
public protocol Clock: Sendable {
    func now() -> Date
    /// The test time when a test clock is set, for the banner on every page.
    func testTime() -> Date?
}

public struct SystemClock: Clock {
    public init() {}
    public func now() -> Date { Date() }
    public func testTime() -> Date? { nil }
}

public struct FixedClock: Clock {
    public let instant: Date
    public init(_ instant: Date) { self.instant = instant }
    public func now() -> Date { instant }
    public func testTime() -> Date? { instant }
}

public struct DatabaseTestClock: Clock {
    public let database: Database

    public init(database: Database) { self.database = database }

    /// Real time when no test time is set, or when the database cannot be read (the request then fails on its own query).
    public func now() -> Date { testTime() ?? Date() }

    public func testTime() -> Date? {
        try? database.withConnection { try TestClockRepository(connection: $0).read() }
    }

    public func set(_ date: Date?) throws {
        try database.withConnection { connection in
            try connection.transaction { try TestClockRepository(connection: connection).write(date) }
        }
    }
}

/// The one row of `test_clock`.
struct TestClockRepository {
    let connection: DatabaseConnection

    func read() throws -> Date? {
        try connection.queryOne("SELECT now_at FROM test_clock WHERE id = 1", [])?.optionalInt("now_at").map(Date.init(unixSeconds:))
    }

    func write(_ date: Date?) throws {
        try connection.execute("DELETE FROM test_clock WHERE id = 1", [])
        if let date { try connection.execute("INSERT INTO test_clock (id, now_at) VALUES (1, ?)", [.int(date.unixSeconds)]) }
    }
}
