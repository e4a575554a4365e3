@testable import App
import Foundation
import XCTest

final class IdentifierTests: XCTestCase {
    func testIdsAreVersion7UUIDsThatNeverGoBackwards() {
        let ids = (0..<5_000).map { _ in Identifier.make() }
        XCTAssertEqual(ids, ids.sorted(), "ids made one after another must sort in the order they were made")
        XCTAssertEqual(Set(ids).count, ids.count)
        for id in ids.prefix(20) {
            XCTAssertNotNil(UUID(uuidString: id), id)
            XCTAssertEqual(Array(id)[14], "7", "version nibble of \(id)")
            XCTAssertTrue("89ab".contains(Array(id)[19]), "variant of \(id)")
            XCTAssertEqual(Identifier.canonical(id.uppercased()), id)
        }
    }
}
