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

    public func now() -> Date { testTime() ?? Date() }

    public func testTime() -> Date? {
        let row = try? database.withConnection { try $0.queryOne("SELECT now_at FROM test_clock WHERE id = 1", []) }
        return row.flatMap { $0.optionalInt("now_at") }.map { Date(timeIntervalSince1970: TimeInterval($0)) }
    }

    public func set(_ date: Date?) throws {
        try database.withConnection { connection in
            try connection.transaction {
                try connection.execute("DELETE FROM test_clock WHERE id = 1", [])
                if let date {
                    try connection.execute("INSERT INTO test_clock (id, now_at) VALUES (1, ?)", [.int(Int64(date.timeIntervalSince1970))])
                }
            }
        }
    }
}
