import Billing
import XCTest

@testable import App

final class RefundRulesTests: XCTestCase {
    private func amount(_ status: PaymentStatus = .completed, key: Bool = true, total: Int = 9_900, refunded: Int = 0,
                        requested: Int?) -> Result<Int, AdminError> {
        RefundRules.amount(status: status, hasPaymentKey: key, total: total, refunded: refunded, requested: requested)
    }

    func testOmittedAmountRefundsEverythingLeft() {
        XCTAssertEqual(amount(requested: nil), .success(9_900))
        XCTAssertEqual(amount(.partialCancelled, refunded: 3_000, requested: nil), .success(6_900))
    }

    func testPartialRefundsUpToTheBalanceAreAccepted() {
        XCTAssertEqual(amount(requested: 1), .success(1))
        XCTAssertEqual(amount(requested: 9_900), .success(9_900))
        XCTAssertEqual(amount(.partialCancelled, refunded: 9_000, requested: 900), .success(900))
    }

    func testOverRefundsAreRefusedWithTheBalance() {
        XCTAssertEqual(amount(requested: 9_901), .failure(.refundExceedsBalance(balance: 9_900, requested: 9_901)))
        XCTAssertEqual(amount(.partialCancelled, refunded: 9_000, requested: 901), .failure(.refundExceedsBalance(balance: 900, requested: 901)))
        XCTAssertEqual(AdminError.refundExceedsBalance(balance: 900, requested: 901).httpError.code, "REFUND_EXCEEDS_BALANCE")
        XCTAssertEqual(AdminError.refundExceedsBalance(balance: 900, requested: 901).httpError.status, 400)
    }

    func testNonPositiveAmountsAreRefused() {
        XCTAssertEqual(amount(requested: 0), .failure(.invalidRefundAmount(0)))
        XCTAssertEqual(amount(requested: -500), .failure(.invalidRefundAmount(-500)))
    }

    func testOnlyCompletedOrPartlyRefundedPaymentsWithAPaymentKeyAreRefundable() {
        for status in [PaymentStatus.pending, .failed, .cancelled] {
            guard case .failure(.notRefundable) = amount(status, requested: 100) else { return XCTFail("\(status) should not be refundable") }
        }
        guard case .failure(.notRefundable) = amount(key: false, requested: 100) else { return XCTFail("no payment key should not be refundable") }
        // A PARTIAL_CANCELLED row whose balance is somehow zero has nothing left.
        guard case .failure(.notRefundable) = amount(.partialCancelled, refunded: 9_900, requested: nil) else { return XCTFail("nothing left") }
        XCTAssertEqual(AdminError.notRefundable("x").httpError.code, "NOT_REFUNDABLE")
    }

    func testIdempotencyKeyIsTheSameForTheSameRequestAndDiffersAfterEachRefund() {
        let first = RefundRules.idempotencyKey(paymentID: "p-1", refundedBefore: 0, amount: 3_000)
        XCTAssertEqual(first, RefundRules.idempotencyKey(paymentID: "p-1", refundedBefore: 0, amount: 3_000))
        XCTAssertEqual(first, "refund-p-1-0-3000")
        XCTAssertNotEqual(first, RefundRules.idempotencyKey(paymentID: "p-1", refundedBefore: 3_000, amount: 3_000))
        XCTAssertNotEqual(first, RefundRules.idempotencyKey(paymentID: "p-1", refundedBefore: 0, amount: 3_001))
        XCTAssertNotEqual(first, RefundRules.idempotencyKey(paymentID: "p-2", refundedBefore: 0, amount: 3_000))
    }

    func testSettledStateComesFromTossBalance() {
        XCTAssertTrue(RefundRules.settled(totalAmount: 9_900, balanceAmount: 6_900) == (3_000, .partialCancelled))
        XCTAssertTrue(RefundRules.settled(totalAmount: 9_900, balanceAmount: 0) == (9_900, .cancelled))
        XCTAssertTrue(RefundRules.settled(totalAmount: 9_900, balanceAmount: 1) == (9_899, .partialCancelled))
    }

    func testReasonIsTrimmedAndLimitedToTossLength() {
        XCTAssertEqual(RefundRules.reason("  고객 요청  \n"), "고객 요청")
        XCTAssertNil(RefundRules.reason("   "))
        XCTAssertNil(RefundRules.reason(String(repeating: "가", count: 201)))
        XCTAssertEqual(RefundRules.reason(String(repeating: "가", count: 200))?.count, 200)
    }
}
