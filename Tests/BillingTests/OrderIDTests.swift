import Foundation
import XCTest
import Billing

final class OrderIDTests: XCTestCase {
    private let subscriptionID = "3F2A1B4C-5D6E-4F70-8192-A3B4C5D6E7F8"

    func testRenewalOrderIDNamesSubscriptionPeriodAndAttempt() {
        let id = OrderID.renewal(subscriptionID: subscriptionID, periodIndex: 12, attempt: 2)
        XCTAssertEqual(id, "sub-3f2a1b4c5d6e4f708192a3b4c5d6e7f8-p12-a2")
    }

    func testRenewalOrderIDIsTheSameForTheSameInputsWhateverTheUUIDCase() {
        let upper = OrderID.renewal(subscriptionID: subscriptionID, periodIndex: 3, attempt: 1)
        let lower = OrderID.renewal(subscriptionID: subscriptionID.lowercased(), periodIndex: 3, attempt: 1)
        let uuid = OrderID.renewal(subscriptionID: UUID(uuidString: subscriptionID)!, periodIndex: 3, attempt: 1)
        XCTAssertEqual(upper, lower)
        XCTAssertEqual(upper, uuid)
    }

    func testRenewalOrderIDsAreValidForTossUpToPeriod9999AndAttempt99() {
        let longest = OrderID.renewal(subscriptionID: subscriptionID, periodIndex: 9_999, attempt: 99)
        XCTAssertLessThanOrEqual(longest.count, 64, longest)
        XCTAssertTrue(OrderID.isValidTossOrderID(longest), longest)
        let shortest = OrderID.renewal(subscriptionID: subscriptionID, periodIndex: 0, attempt: 1)
        XCTAssertTrue(OrderID.isValidTossOrderID(shortest), shortest)
    }

    func testRenewalOrderIDsDifferForEverySubscriptionPeriodAndAttempt() {
        var random = SeededGenerator(seed: 42)
        var seen: [String: String] = [:]
        for _ in 0..<20 {
            let bytes = (0..<16).map { _ in UInt8.random(in: 0...255, using: &random) }
            let uuid = UUID(uuid: (bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                                   bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]))
            for period in [0, 1, 2, 11, 12, 21, 111, 9_999] {
                for attempt in [1, 2, 3, 4, 11, 99] {
                    let id = OrderID.renewal(subscriptionID: uuid, periodIndex: period, attempt: attempt)
                    let key = "\(uuid) p\(period) a\(attempt)"
                    XCTAssertNil(seen[id], "\(id) made for both \(seen[id] ?? "") and \(key)")
                    seen[id] = key
                }
            }
        }
    }

    func testTossOrderIDRuleAcceptsOnlySixToSixtyFourSafeCharacters() {
        let valid = ["abcdef", "A-B_c9", String(repeating: "x", count: 64), "order_2027-01-31"]
        let invalid = ["", "abcde", String(repeating: "x", count: 65), "abc def", "abc=def", "주문번호123", "abc.def", "abcdé1"]
        for id in valid { XCTAssertTrue(OrderID.isValidTossOrderID(id), "should accept \(id)") }
        for id in invalid { XCTAssertFalse(OrderID.isValidTossOrderID(id), "should refuse \(id)") }
    }
}
