import XCTest
@testable import Storage

final class DatabaseURLTests: XCTestCase {
    func testRelativeSQLitePath() {
        XCTAssertEqual(DatabaseURL.parse("sqlite:var/gudok.sqlite3"), .sqlite(path: "var/gudok.sqlite3"))
        XCTAssertEqual(DatabaseURL.parse("sqlite:x.db"), .sqlite(path: "x.db"))
    }

    func testAbsoluteSQLitePath() {
        XCTAssertEqual(DatabaseURL.parse("sqlite:///srv/gudok/db.sqlite3"), .sqlite(path: "/srv/gudok/db.sqlite3"))
    }

    func testSQLiteWithAHostIsRejected() {
        XCTAssertNil(DatabaseURL.parse("sqlite://host/db.sqlite3"))
    }

    func testEmptySQLitePathIsRejected() {
        XCTAssertNil(DatabaseURL.parse("sqlite:"))
    }

    func testPostgresURLsAreKeptWhole() {
        let url = "postgres://gudok:pw@db.internal:5432/gudok?sslmode=require"
        XCTAssertEqual(DatabaseURL.parse(url), .postgres(connectionString: url))
        let alias = "postgresql://gudok@/gudok?host=/var/run/postgresql"
        XCTAssertEqual(DatabaseURL.parse(alias), .postgres(connectionString: alias))
    }

    func testOtherSchemesAreRejected() {
        for url in ["", "mysql://u@h/db", "http://example.com", "postgres:/x", "postgres:x", "SQLITE:x.db", "Postgres://h/db", "file:///x.db",
                    "x.sqlite3", " sqlite:x.db"] {
            XCTAssertNil(DatabaseURL.parse(url), "accepted \(url.debugDescription)")
        }
    }

    func testOpeningABadSchemeIsAConnectionErrorNamingTheVariable() {
        XCTAssertThrowsError(try DatabaseURL.open("mysql://root:hunter2@localhost/db")) { error in
            let databaseError = error as? DatabaseError
            XCTAssertEqual(databaseError?.kind, .connection)
            XCTAssertTrue("\(error)".contains("DATABASE_URL"), "\(error)")
            XCTAssertFalse("\(error)".contains("hunter2"), "the password leaked: \(error)")
        }
    }

    func testSQLValueLiteralsAndHelpers() {
        let text: SQLValue = "x"
        let number: SQLValue = 5
        let none: SQLValue = nil
        XCTAssertEqual(text, .text("x"))
        XCTAssertEqual(number, .int(5))
        XCTAssertEqual(none, .null)
        XCTAssertEqual(SQLValue.bool(true), .int(1))
        XCTAssertEqual(SQLValue.bool(false), .int(0))
        XCTAssertEqual(SQLValue.optional(nil as String?), .null)
        XCTAssertEqual(SQLValue.optional(3 as Int?), .int(3))
    }

    func testPlaceholdersAreNumberedForPostgres() {
        XCTAssertEqual(PostgresConnection.numberPlaceholders("SELECT * FROM t WHERE a = ? AND b IN (?, ?)"),
                       "SELECT * FROM t WHERE a = $1 AND b IN ($2, $3)")
        XCTAssertEqual(PostgresConnection.numberPlaceholders("SELECT 1"), "SELECT 1")
    }
}
