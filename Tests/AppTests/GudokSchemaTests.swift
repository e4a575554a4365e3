import Storage
import XCTest

@testable import App

final class GudokSchemaTests: XCTestCase {
    func testEveryTableExistsAndASecondMigrateAppliesNothing() throws {
        let harness = try AppHarness()
        for table in ["plans", "users", "sessions", "login_failures", "subscriptions", "orders", "payments", "invoices", "webhook_events",
                      "audit_log", "test_clock"] {
            XCTAssertEqual(try harness.count("SELECT COUNT(*) AS n FROM \(table)"), 0, "table \(table) exists and is empty")
        }
        XCTAssertEqual(try Migrator(database: harness.database, migrations: GudokSchema.migrations).migrate().count, 0)
        XCTAssertEqual(GudokSchema.migrations.map(\.version), Array(1...GudokSchema.migrations.count), "versions are 1, 2, 3, … in order")
    }
}
