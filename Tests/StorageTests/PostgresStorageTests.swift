import Foundation
import XCTest
@testable import Storage

/// Runs only with GUDOK_TEST_POSTGRES_URL set (scripts/with-postgres.sh); each test gets its own schema.
final class PostgresStorageTests: XCTestCase {
    private var fixture: StorageFixture!

    override func setUpWithError() throws { fixture = try StorageFixture.postgres() }
    override func tearDown() { fixture?.cleanup() }

    func testMigrationsApplyEveryVersionOnce() throws { try StorageContract.migrationsApplyEveryVersionOnce(fixture) }
    func testMigrationsFromASecondPoolSeeTheFirstRun() throws { try StorageContract.migrationsFromASecondPoolSeeTheFirstRun(fixture) }
    func testConcurrentMigratorsDoNotFail() throws { try StorageContract.concurrentMigratorsDoNotFail(fixture) }
    func testEveryValueKindRoundTrips() throws { try StorageContract.everyValueKindRoundTrips(fixture) }
    func testARepeatedQuerySeesColumnsAddedSince() throws { try StorageContract.aRepeatedQuerySeesColumnsAddedSince(fixture) }
    func testRowAccessorsConvert() throws { try StorageContract.rowAccessorsConvert(fixture) }
    func testExecuteReportsAffectedRows() throws { try StorageContract.executeReportsAffectedRows(fixture) }
    func testDuplicateKeyIsAUniqueViolation() throws { try StorageContract.duplicateKeyIsAUniqueViolation(fixture) }
    func testUniqueColumnViolationIsAUniqueViolation() throws { try StorageContract.uniqueColumnViolationIsAUniqueViolation(fixture) }
    func testOtherConstraintFailuresAreNotUniqueViolations() throws {
        try StorageContract.otherConstraintFailuresAreNotUniqueViolations(fixture)
    }
    func testTransactionCommits() throws { try StorageContract.transactionCommits(fixture) }
    func testTransactionRollsBackOnError() throws { try StorageContract.transactionRollsBackOnError(fixture) }
    func testUpdateReturningAnswersTheChangedRows() throws { try StorageContract.updateReturningAnswersTheChangedRows(fixture) }
    func testConcurrentTransactionsFromManyThreadsAllCommit() throws { try StorageContract.concurrentTransactionsFromManyThreadsAllCommit(fixture) }

    func testBooleanAndIntegerColumnTypesReadAsInts() throws {
        let database = try fixture.open()
        let row = try database.withConnection {
            try $0.queryOne("SELECT TRUE AS t, FALSE AS f, CAST(7 AS SMALLINT) AS s, CAST(8 AS INTEGER) AS i, CAST(9 AS BIGINT) AS b, 'x' AS x", [])
        }
        XCTAssertEqual(row?["t"], .int(1))
        XCTAssertEqual(row?["f"], .int(0))
        XCTAssertEqual(row?["s"], .int(7))
        XCTAssertEqual(row?["i"], .int(8))
        XCTAssertEqual(row?["b"], .int(9))
        XCTAssertEqual(row?["x"], .text("x"))
    }

    func testSessionTimeZoneIsUTC() throws {
        let database = try fixture.open()
        let row = try database.withConnection { try $0.queryOne("SELECT current_setting('TimeZone') AS zone", []) }
        XCTAssertEqual(row?.string("zone"), "UTC")
    }

    func testBrokenTransactionDoesNotPoisonThePool() throws {
        let database = try fixture.open()
        try StorageContract.createScratchTable(database)
        for _ in 0..<3 {
            XCTAssertThrowsError(try database.withConnection { connection in
                try connection.transaction { _ = try connection.query("SELECT no_such_column FROM scratch", []) }
            })
        }
        let row = try database.withConnection { try $0.queryOne("SELECT COUNT(*) AS n FROM scratch", []) }
        XCTAssertEqual(row?.int("n"), 0, "a pooled connection must not be left inside an aborted transaction")
    }

    func testUnreachableServerIsAConnectionErrorWithoutThePassword() {
        XCTAssertThrowsError(try PostgresDatabase(connectionString: "postgres://gudok:s3cretPassw0rd@127.0.0.1:1/gudok?connect_timeout=2")) { error in
            let databaseError = error as? DatabaseError
            XCTAssertEqual(databaseError?.kind, .connection, "\(error)")
            XCTAssertFalse("\(error)".contains("s3cretPassw0rd"), "the password leaked into the error: \(error)")
        }
    }
}
