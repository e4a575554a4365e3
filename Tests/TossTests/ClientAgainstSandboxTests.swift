import Foundation
import XCTest
@testable import Toss
#if canImport(Glibc)
import Glibc
#endif

/// `TossClient` over real HTTP (libcurl) against the Toss sandbox: every endpoint, every error class,
/// idempotency replay, partial-cancel arithmetic, timeouts and connection reuse.
final class ClientAgainstSandboxTests: XCTestCase {
    private var sandbox: SandboxHTTP!
    private var baseURL = ""

    override func setUpWithError() throws {
        baseURL = try InProcessSandbox.shared().baseURL
        sandbox = SandboxHTTP(baseURL: baseURL)
        try sandbox.reset()
    }

    private func client(secretKey: String = SandboxHTTP.secretKey, timeouts: TossTimeouts = TossTimeouts(connect: 2),
                        baseURL: String? = nil) -> TossClient {
        TossClient(configuration: TossConfiguration(baseURL: (baseURL ?? self.baseURL) + "/v1", secretKey: secretKey,
                                                    timeouts: timeouts))
    }

    /// An authorised and confirmed payment.
    private func confirmedPayment(_ toss: TossClient, amount: Int, tag: String = "order") throws -> TossPayment {
        let orderId = uniqueOrderId(tag)
        let paymentKey = try sandbox.authorizePayment(orderId: orderId, amount: amount)
        return try toss.confirmPayment(paymentKey: paymentKey, orderId: orderId, amount: amount,
                                       idempotencyKey: "confirm-" + orderId)
    }

    private func billingKey(_ toss: TossClient, customerKey: String,
                            cardNumber: String = "4330123412341234") throws -> TossBilling {
        let authKey = try sandbox.authorizeBilling(customerKey: customerKey, cardNumber: cardNumber)
        return try toss.issueBillingKey(authKey: authKey, customerKey: customerKey, idempotencyKey: "issue-" + authKey)
    }

    private func charge(_ toss: TossClient, _ billing: TossBilling, customerKey: String? = nil, amount: Int = 9900,
                        orderId: String, idempotencyKey: String? = nil) throws -> TossPayment {
        try toss.chargeBillingKey(billing.billingKey, customerKey: customerKey ?? billing.customerKey, amount: amount,
                                  orderId: orderId, orderName: "gudok 월간 구독", customerEmail: "buyer@example.com",
                                  customerName: "구매자", idempotencyKey: idempotencyKey ?? orderId)
    }

    // MARK: Confirm

    func testConfirmReturnsTheApprovedPayment() throws {
        let toss = client()
        let orderId = uniqueOrderId("confirm")
        let paymentKey = try sandbox.authorizePayment(orderId: orderId, amount: 9900)
        let payment = try toss.confirmPayment(paymentKey: paymentKey, orderId: orderId, amount: 9900,
                                              idempotencyKey: "confirm-1")
        XCTAssertEqual(payment.paymentKey, paymentKey)
        XCTAssertEqual(payment.orderId, orderId)
        XCTAssertEqual(payment.orderName, "베이직 월간")
        XCTAssertEqual(payment.status, "DONE")
        XCTAssertEqual(payment.type, "NORMAL")
        XCTAssertEqual(payment.method, "카드")
        XCTAssertEqual(payment.totalAmount, 9900)
        XCTAssertEqual(payment.balanceAmount, 9900)
        XCTAssertEqual(payment.receiptURL, baseURL + "/receipt/" + paymentKey)
        XCTAssertEqual(payment.card?.number, "43301234****123*")
        XCTAssertEqual(payment.card?.issuerCode, "61")
        XCTAssertEqual(payment.card?.company, "현대")
        XCTAssertEqual(payment.card?.approveNo?.count, 8)
        XCTAssertNotNil(payment.approvedAt)
        XCTAssertNotNil(payment.lastTransactionKey)
        XCTAssertEqual(payment.cancels, [])
        XCTAssertNil(payment.failure)
        let kst = try NSRegularExpression(pattern: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+09:00$"#)
        for stamp in [payment.requestedAt, payment.approvedAt].compactMap({ $0 }) {
            XCTAssertEqual(kst.numberOfMatches(in: stamp, range: NSRange(stamp.startIndex..., in: stamp)), 1, stamp)
        }
    }

    func testSecondConfirmIsAlreadyProcessed() throws {
        let toss = client()
        let orderId = uniqueOrderId("twice")
        let paymentKey = try sandbox.authorizePayment(orderId: orderId, amount: 5000)
        _ = try toss.confirmPayment(paymentKey: paymentKey, orderId: orderId, amount: 5000, idempotencyKey: "c-first")
        assertTossError(try toss.confirmPayment(paymentKey: paymentKey, orderId: orderId, amount: 5000,
                                                idempotencyKey: "c-second"),
                        kind: .alreadyProcessed, code: "ALREADY_PROCESSED_PAYMENT", httpStatus: 400)
    }

    func testConfirmWithTheWrongAmountIsRefusedAndLeavesThePaymentConfirmable() throws {
        let toss = client()
        let orderId = uniqueOrderId("amount")
        let paymentKey = try sandbox.authorizePayment(orderId: orderId, amount: 9900)
        assertTossError(try toss.confirmPayment(paymentKey: paymentKey, orderId: orderId, amount: 990,
                                                idempotencyKey: "wrong-amount"),
                        kind: .invalidRequest, code: "INVALID_REQUEST", httpStatus: 400)
        assertTossError(try toss.confirmPayment(paymentKey: paymentKey, orderId: "other-order-1", amount: 9900,
                                                idempotencyKey: "wrong-order"),
                        kind: .invalidRequest, code: "INVALID_REQUEST", httpStatus: 400)
        XCTAssertEqual(try toss.payment(paymentKey: paymentKey).status, "IN_PROGRESS")
        let payment = try toss.confirmPayment(paymentKey: paymentKey, orderId: orderId, amount: 9900,
                                              idempotencyKey: "right-amount")
        XCTAssertEqual(payment.status, "DONE")
    }

    func testConfirmOfAnUnknownPaymentKeyIsRefused() {
        assertTossError(try client().confirmPayment(paymentKey: "tgen_no_such_payment", orderId: "order-unknown",
                                                    amount: 9900, idempotencyKey: "unknown"),
                        kind: .declined, code: "NOT_FOUND_PAYMENT_SESSION", httpStatus: 404)
    }

    func testConfirmAfterTheTenMinuteWindowFindsNoSession() throws {
        let toss = client()
        let orderId = uniqueOrderId("late")
        let paymentKey = try sandbox.authorizePayment(orderId: orderId, amount: 9900)
        try sandbox.advanceClock(seconds: 9 * 60)
        XCTAssertEqual(try toss.payment(paymentKey: paymentKey).status, "IN_PROGRESS", "still inside the window at 9 min")
        try sandbox.advanceClock(seconds: 61)
        assertTossError(try toss.confirmPayment(paymentKey: paymentKey, orderId: orderId, amount: 9900,
                                                idempotencyKey: "too-late"),
                        kind: .declined, code: "NOT_FOUND_PAYMENT_SESSION", httpStatus: 404)
        XCTAssertEqual(try toss.payment(orderId: orderId).status, "EXPIRED")
    }

    func testDecliningCardAtConfirmIsDeclinedAndAborted() throws {
        let toss = client()
        let orderId = uniqueOrderId("decline")
        let paymentKey = try sandbox.authorizePayment(orderId: orderId, amount: 9900, cardNumber: "4000000000000044")
        assertTossError(try toss.confirmPayment(paymentKey: paymentKey, orderId: orderId, amount: 9900,
                                                idempotencyKey: "decline"),
                        kind: .declined, code: "REJECT_CARD_COMPANY", httpStatus: 403)
        let payment = try toss.payment(paymentKey: paymentKey)
        XCTAssertEqual(payment.status, "ABORTED")
        XCTAssertEqual(payment.failure?.code, "REJECT_CARD_COMPANY")
        XCTAssertNil(payment.receiptURL)
    }

    // MARK: Lookups

    func testLookupByPaymentKeyAndByOrderId() throws {
        let toss = client()
        let confirmed = try confirmedPayment(toss, amount: 12_000)
        let byKey = try toss.payment(paymentKey: confirmed.paymentKey)
        let byOrder = try toss.payment(orderId: confirmed.orderId)
        XCTAssertEqual(byKey, confirmed)
        XCTAssertEqual(byOrder, confirmed)
    }

    func testLookupOfAnUnknownPaymentIsNotFound() {
        let toss = client()
        assertTossError(try toss.payment(paymentKey: "tgen_nothing_here"), kind: .notFound, code: "NOT_FOUND_PAYMENT",
                        httpStatus: 404)
        assertTossError(try toss.payment(orderId: "no-such-order"), kind: .notFound, code: "NOT_FOUND_PAYMENT",
                        httpStatus: 404)
    }

    func testLookupByAnOrderIdThatNeedsPercentEncoding() throws {
        // `=` is allowed in orderIds (SDK v2); the client encodes it as %3D in the path.
        let toss = client()
        let orderId = "order==" + UUID().uuidString.prefix(6)
        let paymentKey = try sandbox.authorizePayment(orderId: orderId, amount: 1000)
        _ = try toss.confirmPayment(paymentKey: paymentKey, orderId: orderId, amount: 1000, idempotencyKey: orderId)
        XCTAssertEqual(try toss.payment(orderId: orderId).paymentKey, paymentKey)
        let calls = try sandbox.calls("path=/v1/payments/orders/*")
        XCTAssertEqual(calls.last?["path"] as? String, "/v1/payments/orders/" + orderId)
    }

    // MARK: Cancel

    func testFullCancel() throws {
        let toss = client()
        let payment = try confirmedPayment(toss, amount: 9900)
        let canceled = try toss.cancelPayment(paymentKey: payment.paymentKey, reason: "고객 변심", amount: nil,
                                              idempotencyKey: "cancel-full")
        XCTAssertEqual(canceled.status, "CANCELED")
        XCTAssertEqual(canceled.totalAmount, 9900)
        XCTAssertEqual(canceled.balanceAmount, 0)
        XCTAssertEqual(canceled.cancels.count, 1)
        XCTAssertEqual(canceled.cancels.first?.cancelAmount, 9900)
        XCTAssertEqual(canceled.cancels.first?.cancelReason, "고객 변심")
        XCTAssertEqual(canceled.cancels.first?.cancelStatus, "DONE")
        XCTAssertEqual(canceled.lastTransactionKey, canceled.cancels.first?.transactionKey)
        XCTAssertEqual(try toss.payment(paymentKey: payment.paymentKey).status, "CANCELED")
        assertTossError(try toss.cancelPayment(paymentKey: payment.paymentKey, reason: "두 번째", amount: nil,
                                               idempotencyKey: "cancel-full-2"),
                        kind: .invalidRequest, code: "ALREADY_CANCELED_PAYMENT", httpStatus: 400)
    }

    func testPartialCancelsDownToZero() throws {
        let toss = client()
        let payment = try confirmedPayment(toss, amount: 10_000)

        let first = try toss.cancelPayment(paymentKey: payment.paymentKey, reason: "부분 환불 1", amount: 3000,
                                           idempotencyKey: "partial-1")
        XCTAssertEqual(first.status, "PARTIAL_CANCELED")
        XCTAssertEqual(first.totalAmount, 10_000)
        XCTAssertEqual(first.balanceAmount, 7000)
        XCTAssertEqual(first.cancels.map(\.cancelAmount), [3000])

        let second = try toss.cancelPayment(paymentKey: payment.paymentKey, reason: "부분 환불 2", amount: 2500,
                                            idempotencyKey: "partial-2")
        XCTAssertEqual(second.status, "PARTIAL_CANCELED")
        XCTAssertEqual(second.balanceAmount, 4500)
        XCTAssertEqual(second.cancels.map(\.cancelAmount), [3000, 2500])
        XCTAssertEqual(Set(second.cancels.compactMap(\.transactionKey)).count, 2, "each cancel has its own transaction")

        assertTossError(try toss.cancelPayment(paymentKey: payment.paymentKey, reason: "너무 많이", amount: 4501,
                                               idempotencyKey: "partial-over"),
                        kind: .declined, code: "NOT_CANCELABLE_AMOUNT", httpStatus: 403)
        XCTAssertEqual(try toss.payment(paymentKey: payment.paymentKey).balanceAmount, 4500, "a refused cancel changes nothing")

        let third = try toss.cancelPayment(paymentKey: payment.paymentKey, reason: "부분 환불 3", amount: 4000,
                                           idempotencyKey: "partial-3")
        XCTAssertEqual(third.status, "PARTIAL_CANCELED")
        XCTAssertEqual(third.balanceAmount, 500)

        let last = try toss.cancelPayment(paymentKey: payment.paymentKey, reason: "나머지", amount: 500,
                                          idempotencyKey: "partial-4")
        XCTAssertEqual(last.status, "CANCELED")
        XCTAssertEqual(last.balanceAmount, 0)
        XCTAssertEqual(last.cancels.map(\.cancelAmount), [3000, 2500, 4000, 500])
        XCTAssertEqual(last.cancels.reduce(0) { $0 + $1.cancelAmount }, last.totalAmount)
        XCTAssertEqual(try toss.payment(orderId: payment.orderId), last)

        assertTossError(try toss.cancelPayment(paymentKey: payment.paymentKey, reason: "0원 남음", amount: 1,
                                               idempotencyKey: "partial-5"),
                        kind: .invalidRequest, code: "ALREADY_CANCELED_PAYMENT", httpStatus: 400)
    }

    func testReplayedPartialCancelSubtractsOnce() throws {
        let toss = client()
        let payment = try confirmedPayment(toss, amount: 10_000)
        let first = try toss.cancelPayment(paymentKey: payment.paymentKey, reason: "환불", amount: 1000,
                                           idempotencyKey: "cancel-once")
        let replay = try toss.cancelPayment(paymentKey: payment.paymentKey, reason: "환불", amount: 1000,
                                            idempotencyKey: "cancel-once")
        XCTAssertEqual(replay, first)
        let now = try toss.payment(paymentKey: payment.paymentKey)
        XCTAssertEqual(now.balanceAmount, 9000)
        XCTAssertEqual(now.cancels.count, 1)
    }

    func testCancelOfAnUnknownPaymentIsNotFound() {
        assertTossError(try client().cancelPayment(paymentKey: "tgen_missing", reason: "?", amount: nil,
                                                   idempotencyKey: "cancel-missing"),
                        kind: .notFound, code: "NOT_FOUND_PAYMENT", httpStatus: 404)
    }

    // MARK: Billing

    func testIssueBillingKey() throws {
        let toss = client()
        let customerKey = "cus_" + UUID().uuidString.prefix(8)
        let authKey = try sandbox.authorizeBilling(customerKey: customerKey, cardNumber: "5327501234564567")
        let billing = try toss.issueBillingKey(authKey: authKey, customerKey: customerKey, idempotencyKey: "issue-1")
        XCTAssertEqual(billing.customerKey, customerKey)
        XCTAssertEqual(billing.method, "카드")
        XCTAssertEqual(billing.card?.issuerCode, "41")
        XCTAssertEqual(billing.card?.company, "신한")
        XCTAssertEqual(billing.card?.number, "53275012****456*")
        XCTAssertNotNil(billing.authenticatedAt)
        // 32 random bytes in standard base64.
        XCTAssertEqual(billing.billingKey.count, 44)
        XCTAssertEqual(Data(base64Encoded: billing.billingKey)?.count, 32)

        for text in [billing.description, billing.debugDescription, String(describing: billing), "\(billing)",
                     String(reflecting: billing), { var out = ""; dump(billing, to: &out); return out }()] {
            XCTAssertFalse(text.contains(billing.billingKey), "billing key leaked: \(text)")
        }
        XCTAssertTrue(billing.description.contains("신한"), billing.description)

        // The authKey is one-time.
        assertTossError(try toss.issueBillingKey(authKey: authKey, customerKey: customerKey, idempotencyKey: "issue-2"),
                        kind: .invalidRequest, code: "INVALID_AUTH_KEY", httpStatus: 400)
        assertTossError(try toss.issueBillingKey(authKey: "bln_unknown", customerKey: customerKey, idempotencyKey: "issue-3"),
                        kind: .notFound, code: "NOT_FOUND", httpStatus: 404)
    }

    func testChargeBillingKey() throws {
        let toss = client()
        let billing = try billingKey(toss, customerKey: "cus_charge_" + UUID().uuidString.prefix(6))
        let orderId = uniqueOrderId("sub")
        let payment = try charge(toss, billing, amount: 4900, orderId: orderId)
        XCTAssertEqual(payment.status, "DONE")
        XCTAssertEqual(payment.type, "BILLING")
        XCTAssertEqual(payment.method, "카드")
        XCTAssertEqual(payment.orderId, orderId)
        XCTAssertEqual(payment.orderName, "gudok 월간 구독")
        XCTAssertEqual(payment.totalAmount, 4900)
        XCTAssertEqual(payment.balanceAmount, 4900)
        XCTAssertEqual(payment.card?.number, "43301234****123*")
        XCTAssertEqual(payment.card?.company, "현대")
        XCTAssertEqual(payment.receiptURL, baseURL + "/receipt/" + payment.paymentKey)
        XCTAssertEqual(try toss.payment(orderId: orderId), payment)
        // The billing key travels in the path, percent-encoded.
        let call = try XCTUnwrap(try sandbox.calls("orderId=" + orderId).first)
        XCTAssertEqual(call["path"] as? String, "/v1/billing/" + billing.billingKey)
        XCTAssertNil((call["headers"] as? [String: Any])?["authorization"], "the call log drops Authorization")

        // A billing payment cancels like any other.
        let canceled = try toss.cancelPayment(paymentKey: payment.paymentKey, reason: "해지", amount: nil,
                                              idempotencyKey: "cancel-" + orderId)
        XCTAssertEqual(canceled.status, "CANCELED")
    }

    func testChargeWithAnotherCustomerKeyIsDeclined() throws {
        let toss = client()
        let billing = try billingKey(toss, customerKey: "cus_owner")
        let orderId = uniqueOrderId("thief")
        assertTossError(try charge(toss, billing, customerKey: "cus_someone_else", orderId: orderId),
                        kind: .declined, code: "NOT_MATCHES_CUSTOMER_KEY", httpStatus: 400)
        XCTAssertEqual(try sandbox.charges(orderId: orderId).count, 0)
    }

    func testChargeOfADecliningCardIsDeclinedAndRecordedAborted() throws {
        let toss = client()
        let billing = try billingKey(toss, customerKey: "cus_broke", cardNumber: "4000000000000036")
        let orderId = uniqueOrderId("broke")
        let error = assertTossError(try charge(toss, billing, orderId: orderId),
                                    kind: .declined, code: "REJECT_CARD_PAYMENT", httpStatus: 403)
        XCTAssertEqual(error?.message, "한도초과 혹은 잔액부족으로 결제에 실패했습니다.")
        let aborted = try toss.payment(orderId: orderId)
        XCTAssertEqual(aborted.status, "ABORTED")
        XCTAssertEqual(aborted.type, "BILLING")
        XCTAssertEqual(aborted.failure?.code, "REJECT_CARD_PAYMENT")
        XCTAssertEqual(try sandbox.charges(orderId: orderId).count, 0)
    }

    func testChargeBelowTheMinimumIsDeclined() throws {
        let toss = client()
        let billing = try billingKey(toss, customerKey: "cus_small")
        assertTossError(try charge(toss, billing, amount: 99, orderId: uniqueOrderId("small")),
                        kind: .declined, code: "BELOW_MINIMUM_AMOUNT", httpStatus: 400)
    }

    func testChargeReusingAnOrderIdIsAlreadyProcessed() throws {
        let toss = client()
        let billing = try billingKey(toss, customerKey: "cus_dup")
        let orderId = uniqueOrderId("dup")
        _ = try charge(toss, billing, orderId: orderId, idempotencyKey: "dup-1")
        assertTossError(try charge(toss, billing, orderId: orderId, idempotencyKey: "dup-2"),
                        kind: .alreadyProcessed, code: "DUPLICATED_ORDER_ID", httpStatus: 400)
    }

    func testDeletedBillingKeyCannotBeCharged() throws {
        let toss = client()
        let billing = try billingKey(toss, customerKey: "cus_leaving")
        try toss.deleteBillingKey(billing.billingKey)
        assertTossError(try charge(toss, billing, orderId: uniqueOrderId("gone")),
                        kind: .notFound, code: "NOT_FOUND_BILLING", httpStatus: 404)
        assertTossError(try toss.deleteBillingKey(billing.billingKey), kind: .notFound, code: "NOT_FOUND_BILLING",
                        httpStatus: 404)
        assertTossError(try toss.deleteBillingKey("no-such-billing-key"), kind: .notFound, code: "NOT_FOUND_BILLING",
                        httpStatus: 404)
    }

    // MARK: Configuration errors

    func testWrongSecretKeyIsAConfigurationError() {
        let toss = client(secretKey: "live_sk_notTheSandboxKey")
        let error = assertTossError(try toss.payment(orderId: "whatever-1"), kind: .configuration,
                                    code: "UNAUTHORIZED_KEY", httpStatus: 401)
        XCTAssertFalse("\(String(describing: error))".contains("notTheSandboxKey"))
        assertTossError(try toss.confirmPayment(paymentKey: "p", orderId: "whatever-1", amount: 100, idempotencyKey: "k"),
                        kind: .configuration, code: "UNAUTHORIZED_KEY", httpStatus: 401)
    }

    func testSandboxConfiguredWithOneSecretKeyRefusesOthers() throws {
        let strict = try InProcessSandbox(secretKey: "test_sk_onlyThisOne")
        assertTossError(try client(secretKey: "test_sk_another", baseURL: strict.baseURL).payment(orderId: "order-1"),
                        kind: .configuration, code: "UNAUTHORIZED_KEY", httpStatus: 401)
        assertTossError(try client(secretKey: "test_sk_onlyThisOne", baseURL: strict.baseURL).payment(orderId: "order-1"),
                        kind: .notFound, code: "NOT_FOUND_PAYMENT", httpStatus: 404)
    }

    // MARK: Idempotency

    func testSameIdempotencyKeyTwiceChargesOnce() throws {
        let toss = client()
        let billing = try billingKey(toss, customerKey: "cus_idem")
        let orderId = uniqueOrderId("idem")
        let first = try charge(toss, billing, orderId: orderId, idempotencyKey: "idem-" + orderId)
        let second = try charge(toss, billing, orderId: orderId, idempotencyKey: "idem-" + orderId)
        XCTAssertEqual(second.paymentKey, first.paymentKey)
        XCTAssertEqual(second, first)
        XCTAssertEqual(try sandbox.charges(orderId: orderId).count, 1, "executed once")
        let calls = try sandbox.calls("idempotencyKey=" + SandboxHTTP.encode("idem-" + orderId))
        XCTAssertEqual(calls.count, 2)
        XCTAssertEqual(calls.map { jsonBool($0["replayed"]) }, [false, true])
    }

    func testSameIdempotencyKeyWithADifferentBodyGetsTheFirstAnswer() throws {
        let toss = client()
        let billing = try billingKey(toss, customerKey: "cus_body")
        let firstOrder = uniqueOrderId("first")
        let secondOrder = uniqueOrderId("second")
        let first = try charge(toss, billing, amount: 9900, orderId: firstOrder, idempotencyKey: "shared-key")
        let second = try charge(toss, billing, amount: 19_900, orderId: secondOrder, idempotencyKey: "shared-key")
        XCTAssertEqual(second.paymentKey, first.paymentKey)
        XCTAssertEqual(second.orderId, firstOrder)
        XCTAssertEqual(second.totalAmount, 9900)
        XCTAssertEqual(try sandbox.charges(orderId: secondOrder).count, 0, "the second body was never executed")
        assertTossError(try toss.payment(orderId: secondOrder), kind: .notFound, code: "NOT_FOUND_PAYMENT")
    }

    func testErrorAnswersAreReplayedToo() throws {
        let toss = client()
        let billing = try billingKey(toss, customerKey: "cus_err_replay")
        let orderId = uniqueOrderId("errreplay")
        assertTossError(try charge(toss, billing, customerKey: "cus_wrong", orderId: orderId, idempotencyKey: "err-key"),
                        kind: .declined, code: "NOT_MATCHES_CUSTOMER_KEY")
        // Same key, now a correct body: still the first (error) answer.
        assertTossError(try charge(toss, billing, orderId: orderId, idempotencyKey: "err-key"),
                        kind: .declined, code: "NOT_MATCHES_CUSTOMER_KEY")
        XCTAssertEqual(try sandbox.charges(orderId: orderId).count, 0)
    }

    func testReplayedConfirmReturnsThePaymentNotAlreadyProcessed() throws {
        let toss = client()
        let orderId = uniqueOrderId("confirm-replay")
        let paymentKey = try sandbox.authorizePayment(orderId: orderId, amount: 3000)
        let first = try toss.confirmPayment(paymentKey: paymentKey, orderId: orderId, amount: 3000, idempotencyKey: "cr-1")
        let replay = try toss.confirmPayment(paymentKey: paymentKey, orderId: orderId, amount: 3000, idempotencyKey: "cr-1")
        XCTAssertEqual(replay, first)
    }

    // MARK: Transient errors

    func testServerErrorIsTransientAndARetryWithTheSameKeyExecutes() throws {
        let toss = client()
        let billing = try billingKey(toss, customerKey: "cus_500")
        let orderId = uniqueOrderId("five")
        try sandbox.addFault(["match": ["orderId": orderId], "action": "error", "status": 500])
        assertTossError(try charge(toss, billing, orderId: orderId, idempotencyKey: "k-" + orderId),
                        kind: .transient, code: "FAILED_INTERNAL_SYSTEM_PROCESSING", httpStatus: 500)
        XCTAssertEqual(try sandbox.charges(orderId: orderId).count, 0, "apply: false executes nothing")
        let retried = try charge(toss, billing, orderId: orderId, idempotencyKey: "k-" + orderId)
        XCTAssertEqual(retried.status, "DONE")
        XCTAssertEqual(try sandbox.charges(orderId: orderId).count, 1)
    }

    func testOtherTransientAnswers() throws {
        let toss = client()
        try sandbox.addFault(["match": ["orderId": "busy-order-1"], "action": "error", "status": 429])
        assertTossError(try toss.payment(orderId: "busy-order-1"), kind: .transient, code: "TOO_MANY_REQUESTS",
                        httpStatus: 429)
        try sandbox.addFault(["match": ["orderId": "busy-order-2"], "action": "error", "status": 503,
                              "code": "SANDBOX_UNKNOWN_CODE"])
        assertTossError(try toss.payment(orderId: "busy-order-2"), kind: .transient, code: "SANDBOX_UNKNOWN_CODE",
                        httpStatus: 503)
        try sandbox.addFault(["match": ["orderId": "busy-order-3"], "action": "error",
                              "code": "IDEMPOTENT_REQUEST_PROCESSING"])
        assertTossError(try toss.payment(orderId: "busy-order-3"), kind: .transient,
                        code: "IDEMPOTENT_REQUEST_PROCESSING", httpStatus: 409)
    }

    func testErrorFaultWithApplyRunsTheChargeAndTheRetryReplaysIt() throws {
        let toss = client()
        let billing = try billingKey(toss, customerKey: "cus_500_applied")
        let orderId = uniqueOrderId("fiveapplied")
        try sandbox.addFault(["match": ["orderId": orderId], "action": "error", "status": 500, "apply": true])
        assertTossError(try charge(toss, billing, orderId: orderId, idempotencyKey: "k-" + orderId),
                        kind: .transient, code: "FAILED_INTERNAL_SYSTEM_PROCESSING", httpStatus: 500)
        let charged = try XCTUnwrap(try sandbox.charges(orderId: orderId).first)
        let retried = try charge(toss, billing, orderId: orderId, idempotencyKey: "k-" + orderId)
        XCTAssertEqual(retried.paymentKey, charged["paymentKey"] as? String)
        XCTAssertEqual(try sandbox.charges(orderId: orderId).count, 1)
    }

    // MARK: Timeouts and lost connections

    func testChargeTimeoutIsAmbiguousAndTheChargeHappenedWhenApplied() throws {
        let toss = client(timeouts: TossTimeouts(connect: 2, billingCharge: 1))
        let billing = try billingKey(toss, customerKey: "cus_timeout_applied")
        let orderId = uniqueOrderId("tapplied")
        try sandbox.addFault(["match": ["orderId": orderId], "action": "timeout", "apply": true])
        let started = Date()
        let error = assertTossError(try charge(toss, billing, orderId: orderId, idempotencyKey: "t-" + orderId),
                                    kind: .ambiguous, code: "PG_TIMEOUT", httpStatus: .some(nil))
        let elapsed = Date().timeIntervalSince(started)
        XCTAssertGreaterThan(elapsed, 0.9)
        XCTAssertLessThan(elapsed, 5)
        XCTAssertFalse("\(String(describing: error))".contains(billing.billingKey))

        let found = try toss.payment(orderId: orderId)
        XCTAssertEqual(found.status, "DONE", "the charge happened although its answer was lost")
        let retried = try charge(toss, billing, orderId: orderId, idempotencyKey: "t-" + orderId)
        XCTAssertEqual(retried.paymentKey, found.paymentKey, "the retry replays the first answer")
        XCTAssertEqual(try sandbox.charges(orderId: orderId).count, 1)
    }

    func testChargeTimeoutIsAmbiguousAndNothingHappenedWhenNotApplied() throws {
        let toss = client(timeouts: TossTimeouts(connect: 2, billingCharge: 1))
        let billing = try billingKey(toss, customerKey: "cus_timeout_lost")
        let orderId = uniqueOrderId("tnot")
        try sandbox.addFault(["match": ["orderId": orderId], "action": "timeout", "apply": false])
        assertTossError(try charge(toss, billing, orderId: orderId, idempotencyKey: "t-" + orderId),
                        kind: .ambiguous, code: "PG_TIMEOUT")
        assertTossError(try toss.payment(orderId: orderId), kind: .notFound, code: "NOT_FOUND_PAYMENT")
        let retried = try charge(toss, billing, orderId: orderId, idempotencyKey: "t-" + orderId)
        XCTAssertEqual(retried.status, "DONE", "the retry with the same key executes for real")
        XCTAssertEqual(try sandbox.charges(orderId: orderId).count, 1)
    }

    func testConfirmTimeoutIsAmbiguous() throws {
        let toss = client(timeouts: TossTimeouts(connect: 2, confirm: 1))
        let orderId = uniqueOrderId("ctimeout")
        let paymentKey = try sandbox.authorizePayment(orderId: orderId, amount: 9900)
        try sandbox.addFault(["match": ["paymentKey": paymentKey], "action": "timeout", "apply": true])
        assertTossError(try toss.confirmPayment(paymentKey: paymentKey, orderId: orderId, amount: 9900,
                                                idempotencyKey: "ct-1"),
                        kind: .ambiguous, code: "PG_TIMEOUT")
        XCTAssertEqual(try toss.payment(orderId: orderId).status, "DONE")
        XCTAssertEqual(try toss.confirmPayment(paymentKey: paymentKey, orderId: orderId, amount: 9900,
                                               idempotencyKey: "ct-1").status, "DONE")
    }

    func testConnectionResetIsAmbiguous() throws {
        // A fresh client: its first request opens a fresh connection, which libcurl does not retry.
        let toss = client()
        let billing = try billingKey(client(), customerKey: "cus_reset")
        let orderId = uniqueOrderId("reset")
        try sandbox.addFault(["match": ["orderId": orderId], "action": "reset", "apply": true])
        assertTossError(try charge(toss, billing, orderId: orderId, idempotencyKey: "r-" + orderId),
                        kind: .ambiguous, code: "PG_CONNECTION_LOST", httpStatus: .some(nil))
        XCTAssertEqual(try toss.payment(orderId: orderId).status, "DONE")
    }

    func testPersistentResetOnAWarmConnectionIsAmbiguous() throws {
        let toss = client()
        let billing = try billingKey(toss, customerKey: "cus_reset_warm")
        let orderId = uniqueOrderId("resetwarm")
        let rule = try sandbox.addFault(["match": ["orderId": orderId], "action": "reset", "count": -1])
        assertTossError(try charge(toss, billing, orderId: orderId, idempotencyKey: "rw-" + orderId),
                        kind: .ambiguous, code: "PG_CONNECTION_LOST")
        _ = try sandbox.send("DELETE", "/sandbox/faults/" + rule)
        assertTossError(try toss.payment(orderId: orderId), kind: .notFound, code: "NOT_FOUND_PAYMENT")
    }

    /// libcurl resends a request once when a *reused* connection dies before any answer (see
    /// `CurlHTTPClientTests.testReusedConnectionDyingAfterTheRequestIsLostAfterSending`). Against the
    /// sandbox that resend carries the same Idempotency-Key, so a one-off reset never charges twice.
    func testOneResetOnAWarmConnectionIsResentWithTheSameKeyAndChargesOnce() throws {
        let toss = client()
        let billing = try billingKey(toss, customerKey: "cus_reset_once")
        let orderId = uniqueOrderId("resetonce")
        try sandbox.addFault(["match": ["orderId": orderId], "action": "reset", "apply": true, "count": 1])
        let key = "ro-" + orderId
        var resent = false
        do {
            let payment = try charge(toss, billing, orderId: orderId, idempotencyKey: key)
            XCTAssertEqual(payment.status, "DONE")
            resent = true
        } catch let error as TossError {
            XCTAssertEqual(error.kind, .ambiguous, "\(error)")
        }
        let calls = try sandbox.calls("orderId=" + orderId).filter { $0["method"] as? String == "POST" }
        print("one reset on a warm connection: \(resent ? "resent by libcurl, answered by replay" : "reported ambiguous")")
        XCTAssertEqual(calls.count, resent ? 2 : 1)
        XCTAssertEqual(calls.map { $0["outcome"] as? String }, resent ? ["reset", "answered"] : ["reset"])
        if resent { XCTAssertEqual(jsonBool(calls.last?["replayed"]), true) }
        XCTAssertTrue(calls.allSatisfy { $0["idempotencyKey"] as? String == key })
        XCTAssertEqual(try sandbox.charges(orderId: orderId).count, 1, "charged exactly once")
    }

    func testConnectionRefusedIsTransient() throws {
        let port = try LoopbackServer.closedPort()
        let toss = client(baseURL: "http://127.0.0.1:\(port)")
        let error = assertTossError(try toss.chargeBillingKey("key+with/slash=", customerKey: "cus_1", amount: 9900,
                                                              orderId: "order-refused", orderName: "x",
                                                              customerEmail: nil, customerName: nil,
                                                              idempotencyKey: "refused"),
                                    kind: .transient, code: "PG_UNREACHABLE", httpStatus: .some(nil))
        XCTAssertFalse("\(String(describing: error))".contains("key+with"), "no billing key in the message")
        assertTossError(try toss.payment(orderId: "order-refused"), kind: .transient, code: "PG_UNREACHABLE")
    }

    func testConnectTimeoutIsTransientNotAmbiguous() throws {
        let listener = try StalledListener()
        defer { listener.close() }
        let toss = client(timeouts: TossTimeouts(connect: 0.3, billingCharge: 5),
                          baseURL: "http://127.0.0.1:\(listener.port)")
        let started = Date()
        assertTossError(try toss.chargeBillingKey("bk", customerKey: "cus_1", amount: 9900, orderId: "order-stalled",
                                                  orderName: "x", customerEmail: nil, customerName: nil,
                                                  idempotencyKey: "stalled"),
                        kind: .transient, code: "PG_UNREACHABLE")
        XCTAssertLessThan(Date().timeIntervalSince(started), 3)
    }

    func testLatencyUnderTheTimeoutIsJustSlow() throws {
        let toss = client(timeouts: TossTimeouts(connect: 2, billingCharge: 3))
        let billing = try billingKey(toss, customerKey: "cus_slow")
        let orderId = uniqueOrderId("slow")
        try sandbox.addFault(["match": ["orderId": orderId], "action": "latency", "latencyMs": 600])
        let started = Date()
        XCTAssertEqual(try charge(toss, billing, orderId: orderId).status, "DONE")
        XCTAssertGreaterThan(Date().timeIntervalSince(started), 0.55)
    }

    // MARK: Connection reuse

    /// The sandbox's call log has no connection id, so this counts this process's TCP sockets to a
    /// dedicated sandbox's port in /proc/net/tcp (client side: the remote port is the sandbox's).
    func testSequentialCallsFromOneThreadShareAConnection() throws {
        let dedicated = try InProcessSandbox()
        let control = SandboxHTTP(baseURL: dedicated.baseURL)
        let customerKey = "cus_reuse"
        let authKey = try control.authorizeBilling(customerKey: customerKey)
        let paymentKey = try control.authorizePayment(orderId: "reuse-confirm", amount: 9900)
        guard let before = Self.clientSockets(toPort: dedicated.port) else {
            throw XCTSkip("/proc/net/tcp is not readable here; reuse is covered by CurlHTTPClientTests against a fake server")
        }

        let toss = client(baseURL: dedicated.baseURL)
        let billing = try toss.issueBillingKey(authKey: authKey, customerKey: customerKey, idempotencyKey: "reuse-issue")
        _ = try toss.confirmPayment(paymentKey: paymentKey, orderId: "reuse-confirm", amount: 9900,
                                    idempotencyKey: "reuse-confirm")
        var errors = 0
        for index in 0..<15 {
            let orderId = "reuse-order-\(index)"
            let payment = try charge(toss, billing, orderId: orderId)
            _ = try toss.payment(paymentKey: payment.paymentKey)
            _ = try toss.cancelPayment(paymentKey: payment.paymentKey, reason: "r", amount: 100,
                                       idempotencyKey: "reuse-cancel-\(index)")
            // Error answers keep the connection too.
            do { _ = try toss.payment(orderId: "reuse-missing-\(index)") } catch { errors += 1 }
        }
        XCTAssertEqual(errors, 15)
        let sequential = try XCTUnwrap(Self.clientSockets(toPort: dedicated.port)).subtracting(before)
        XCTAssertEqual(sequential.count, 1, "62 sequential calls from one thread used \(sequential.count) connections")

        // Control: separate clients cannot share, so the measurement does see new connections.
        for index in 0..<4 {
            _ = try? client(baseURL: dedicated.baseURL).payment(orderId: "reuse-fresh-\(index)")
        }
        let withFresh = try XCTUnwrap(Self.clientSockets(toPort: dedicated.port)).subtracting(before)
        XCTAssertEqual(withFresh.count, sequential.count + 4, "each fresh client opened its own connection")
    }

    func testConcurrentCallsUseAtMostOneConnectionPerThread() throws {
        let dedicated = try InProcessSandbox()
        guard let before = Self.clientSockets(toPort: dedicated.port) else {
            throw XCTSkip("/proc/net/tcp is not readable here; reuse is covered by CurlHTTPClientTests against a fake server")
        }
        let toss = client(baseURL: dedicated.baseURL)
        let threads = 4
        let failures = LockedCounter()
        DispatchQueue.concurrentPerform(iterations: threads) { thread in
            for call in 0..<10 {
                do {
                    _ = try toss.payment(orderId: "concurrent-\(thread)-\(call)")
                    failures.increment()
                } catch let error as TossError where error.kind == .notFound {
                } catch {
                    failures.increment()
                }
            }
        }
        XCTAssertEqual(failures.value, 0)
        let used = try XCTUnwrap(Self.clientSockets(toPort: dedicated.port)).subtracting(before)
        XCTAssertGreaterThanOrEqual(used.count, 1)
        XCTAssertLessThanOrEqual(used.count, threads, "40 calls on \(threads) threads used \(used.count) connections")
    }

    /// Local ports of TCP sockets (any state but LISTEN) whose remote end is 127.0.0.1:`port`; nil when
    /// /proc/net/tcp cannot be read or does not even show the sandbox's listening socket.
    static func clientSockets(toPort port: Int) -> Set<Int>? {
        // /proc files report size 0, so read to EOF rather than by the file's size.
        guard let handle = FileHandle(forReadingAtPath: "/proc/net/tcp") else { return nil }
        defer { try? handle.close() }
        let table = String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
        var ports = Set<Int>()
        var sawListener = false
        for line in table.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count > 3 else { continue }
            let local = fields[1].split(separator: ":")
            let remote = fields[2].split(separator: ":")
            guard local.count == 2, remote.count == 2,
                  let localPort = Int(local[1], radix: 16), let remotePort = Int(remote[1], radix: 16) else { continue }
            if fields[3] == "0A" {
                if localPort == port { sawListener = true }
            } else if remotePort == port {
                ports.insert(localPort)
            }
        }
        return sawListener ? ports : nil
    }
}
