import Foundation
import XCTest
@testable import Storage

final class SQLiteStorageTests: XCTestCase {
    private var fixture: StorageFixture!

    override func setUpWithError() throws { fixture = try StorageFixture.sqlite() }
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

    func testDatabaseFileIsInWALMode() throws {
        let database = try fixture.open()
        let mode = try database.withConnection { try $0.queryOne("PRAGMA journal_mode", []) }
        XCTAssertEqual(mode?.string("journal_mode"), "wal")
        let foreignKeys = try database.withConnection { try $0.queryOne("PRAGMA foreign_keys", []) }
        XCTAssertEqual(foreignKeys?.int("foreign_keys"), 1)
    }

    func testRelativePathCreatesMissingDirectories() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gudok-rel-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = try SQLiteDatabase(path: directory.appendingPathComponent("nested/deeper/db.sqlite3").path)
        XCTAssertEqual(database.dialect, .sqlite)
        XCTAssertTrue(FileManager.default.fileExists(atPath: directory.appendingPathComponent("nested/deeper/db.sqlite3").path))
    }

    func testUnopenableFileIsAConnectionError() {
        XCTAssertThrowsError(try SQLiteDatabase(path: "/proc/gudok-cannot-exist/db.sqlite3")) { error in
            XCTAssertEqual((error as? DatabaseError)?.kind, .connection, "\(error)")
        }
    }

    func testSyntaxErrorIsOtherAndKeepsTheSQL() throws {
        let database = try fixture.open()
        XCTAssertThrowsError(try database.withConnection { try $0.query("SELEC 1", []) }) { error in
            let databaseError = error as? DatabaseError
            XCTAssertEqual(databaseError?.kind, .other, "\(error)")
            XCTAssertEqual(databaseError?.sql, "SELEC 1")
        }
    }
}
