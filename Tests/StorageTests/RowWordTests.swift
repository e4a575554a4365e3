import XCTest
@testable import Storage

final class RowWordTests: XCTestCase {
    private enum Status: String { case open = "OPEN", paid = "PAID" }

    func testAKnownWordReadsAsItsValue() throws {
        let row = Row(columns: ["status"], values: [.text("PAID")])
        XCTAssertEqual(try row.word("status", as: Status.self), .paid)
    }

    func testAnUnknownWordIsAnErrorNamingTheColumnAndTheValue() {
        let row = Row(columns: ["status"], values: [.text("PIAD")])
        XCTAssertThrowsError(try row.word("status", as: Status.self)) { error in
            let message = (error as? DatabaseError)?.message ?? ""
            XCTAssertTrue(message.contains("status") && message.contains("PIAD"), message)
        }
    }
}
