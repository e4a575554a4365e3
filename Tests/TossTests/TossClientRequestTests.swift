import XCTest
@testable import Toss

/// What the client puts on the wire and how it reads answers, through a recording `HTTPClient`.
final class TossClientRequestTests: XCTestCase {
    private let secretKey = "test_sk_zXLkKEypNArWmo50nX3lmeaxYG5R"

    private func client(_ http: RecordingHTTPClient, baseURL: String = "https://api.tosspayments.com/v1/",
                        timeouts: TossTimeouts = .init()) -> TossClient {
        TossClient(configuration: TossConfiguration(baseURL: baseURL, secretKey: secretKey, timeouts: timeouts), http: http)
    }

    func testBasicAuthorizationHasTheTrailingColon() {
        XCTAssertEqual(TossClient.authorizationHeader(secretKey: secretKey),
                       "Basic dGVzdF9za196WExrS0V5cE5BcldtbzUwblgzbG1lYXhZRzVSOg==")
    }

    func testConfirmSendsJSONWithAuthAndIdempotencyKey() throws {
        let http = RecordingHTTPClient(status: 200, body: Fixtures.payment(paymentKey: "pk", orderId: "order-1", amount: 15000))
        let payment = try client(http).confirmPayment(paymentKey: "pk", orderId: "order-1", amount: 15000,
                                                      idempotencyKey: "idem-1")
        XCTAssertEqual(payment.paymentKey, "pk")
        let request = try XCTUnwrap(http.lastRequest)
        XCTAssertEqual(request.method, "POST")
        XCTAssertEqual(request.url, "https://api.tosspayments.com/v1/payments/confirm")
        XCTAssertEqual(request.header("Authorization"), "Basic dGVzdF9za196WExrS0V5cE5BcldtbzUwblgzbG1lYXhZRzVSOg==")
        XCTAssertEqual(request.header("Content-Type"), "application/json")
        XCTAssertEqual(request.header("Idempotency-Key"), "idem-1")
        XCTAssertEqual(request.timeout, 30)
        XCTAssertEqual(request.connectTimeout, 10)
        let body = try XCTUnwrap(request.jsonBody)
        XCTAssertEqual(body["paymentKey"] as? String, "pk")
        XCTAssertEqual(body["orderId"] as? String, "order-1")
        XCTAssertEqual(body["amount"] as? Int, 15000)
    }

    func testLookupsAreGetsWithEncodedPathsAndNoIdempotencyKey() throws {
        let http = RecordingHTTPClient(status: 200, body: Fixtures.payment())
        let toss = client(http, timeouts: TossTimeouts(lookup: 7))
        _ = try toss.payment(paymentKey: "a/b+c=")
        _ = try toss.payment(orderId: "order=1")
        _ = try toss.payment(orderId: "..")
        let requests = http.requests
        XCTAssertEqual(requests.map(\.method), ["GET", "GET", "GET"])
        XCTAssertEqual(requests.map(\.url), [
            "https://api.tosspayments.com/v1/payments/a%2Fb%2Bc%3D",
            "https://api.tosspayments.com/v1/payments/orders/order%3D1",
            "https://api.tosspayments.com/v1/payments/orders/%2E%2E",
        ])
        XCTAssertEqual(requests.map(\.timeout), [7, 7, 7])
        XCTAssertTrue(requests.allSatisfy { $0.header("Idempotency-Key") == nil && $0.body == nil })
    }

    func testCancelFullAndPartial() throws {
        let http = RecordingHTTPClient(status: 200, body: Fixtures.partiallyCanceled)
        let toss = client(http, timeouts: TossTimeouts(cancel: 25))
        _ = try toss.cancelPayment(paymentKey: "pay 2", reason: "고객 요청", amount: nil, idempotencyKey: "c-1")
        let payment = try toss.cancelPayment(paymentKey: "pay_2", reason: "부분 환불", amount: 10000, idempotencyKey: "c-2")
        XCTAssertEqual(payment.balanceAmount, 89000)

        let (full, partial) = (http.requests[0], http.requests[1])
        XCTAssertEqual(full.url, "https://api.tosspayments.com/v1/payments/pay%202/cancel")
        XCTAssertEqual(full.method, "POST")
        XCTAssertEqual(full.timeout, 25)
        XCTAssertEqual(full.header("Idempotency-Key"), "c-1")
        XCTAssertEqual(full.jsonBody?["cancelReason"] as? String, "고객 요청")
        XCTAssertNil(full.jsonBody?["cancelAmount"], "a full cancel omits cancelAmount")
        XCTAssertEqual(partial.jsonBody?["cancelAmount"] as? Int, 10000)
    }

    func testIssueBillingKey() throws {
        let http = RecordingHTTPClient(status: 200, body: Fixtures.billingIssued)
        let billing = try client(http).issueBillingKey(authKey: "auth-1", customerKey: "cus_8f3e2c1a-77aa",
                                                       idempotencyKey: "issue-1")
        XCTAssertEqual(billing.billingKey, Fixtures.billingKey)
        let request = try XCTUnwrap(http.lastRequest)
        XCTAssertEqual(request.url, "https://api.tosspayments.com/v1/billing/authorizations/issue")
        XCTAssertEqual(request.header("Idempotency-Key"), "issue-1")
        XCTAssertEqual(request.jsonBody?["authKey"] as? String, "auth-1")
        XCTAssertEqual(request.jsonBody?["customerKey"] as? String, "cus_8f3e2c1a-77aa")
    }

    func testChargeBillingKeyEncodesTheKeyAndWaitsSixtySeconds() throws {
        let http = RecordingHTTPClient(status: 200, body: Fixtures.billingChargeDone)
        let payment = try client(http).chargeBillingKey(
            Fixtures.billingKey, customerKey: "cus_1", amount: 4900, orderId: "sub1-p3-a1", orderName: "토스 프라임 구독",
            customerEmail: "a@example.com", customerName: nil, idempotencyKey: "sub1-p3-a1")
        XCTAssertEqual(payment.status, "DONE")
        let request = try XCTUnwrap(http.lastRequest)
        XCTAssertEqual(request.method, "POST")
        XCTAssertEqual(request.url, "https://api.tosspayments.com/v1/billing/Z_t5vOvQxrj4499PeiJcjen28-V2RyqgYTwN44Rdzk0%3D")
        XCTAssertEqual(request.timeout, 60)
        XCTAssertEqual(request.header("Idempotency-Key"), "sub1-p3-a1")
        let body = try XCTUnwrap(request.jsonBody)
        XCTAssertEqual(body["customerKey"] as? String, "cus_1")
        XCTAssertEqual(body["amount"] as? Int, 4900)
        XCTAssertEqual(body["orderId"] as? String, "sub1-p3-a1")
        XCTAssertEqual(body["orderName"] as? String, "토스 프라임 구독")
        XCTAssertEqual(body["customerEmail"] as? String, "a@example.com")
        XCTAssertNil(body["customerName"])
    }

    func testDeleteBillingKeyAcceptsAnEmptyOK() throws {
        let http = RecordingHTTPClient(status: 200, body: "")
        try client(http).deleteBillingKey(Fixtures.keyWithReservedCharacters)
        let request = try XCTUnwrap(http.lastRequest)
        XCTAssertEqual(request.method, "DELETE")
        XCTAssertEqual(request.url, "https://api.tosspayments.com/v1/billing/ab%2Bcd%2Fef%3Dgh")
        XCTAssertNil(request.body)
    }

    func testTossErrorBodyIsThrownClassified() {
        let http = RecordingHTTPClient(status: 403, body: #"{"code":"REJECT_CARD_PAYMENT","message":"한도초과 혹은 잔액부족으로 결제에 실패했습니다."}"#)
        XCTAssertThrowsError(try client(http).chargeBillingKey(
            Fixtures.billingKey, customerKey: "c", amount: 100, orderId: "o-000001", orderName: "n", customerEmail: nil,
            customerName: nil, idempotencyKey: "k")) { error in
            XCTAssertEqual(error as? TossError, TossError(kind: .declined, code: "REJECT_CARD_PAYMENT",
                                                         message: "한도초과 혹은 잔액부족으로 결제에 실패했습니다.", httpStatus: 403))
        }
    }

    func testUnreadableSuccessIsAmbiguousBecauseTheChargeMayHaveHappened() {
        let http = RecordingHTTPClient(status: 200, body: "<html>maintenance</html>")
        XCTAssertThrowsError(try client(http).chargeBillingKey(
            Fixtures.billingKey, customerKey: "c", amount: 100, orderId: "o-000001", orderName: "n", customerEmail: nil,
            customerName: nil, idempotencyKey: "k")) { error in
            let toss = error as? TossError
            XCTAssertEqual(toss?.kind, .ambiguous)
            XCTAssertEqual(toss?.code, "PG_INVALID_RESPONSE")
            XCTAssertEqual(toss?.httpStatus, 200)
        }
    }

    func testUnreadableBillingIssueDoesNotLeakTheBody() {
        let http = RecordingHTTPClient(status: 200, body: #"{"billingKey":"leaky+key=","customerKey":null}"#)
        XCTAssertThrowsError(try client(http).issueBillingKey(authKey: "a", customerKey: "c", idempotencyKey: "k")) { error in
            XCTAssertEqual((error as? TossError)?.kind, .ambiguous)
            XCTAssertFalse("\(error)".contains("leaky"), "\(error)")
        }
    }

    func testTransportErrorsNeverMentionKeysOrURL() {
        for failure in [HTTPClientError.timedOut(afterSending: true), .connectionLost(afterSending: true),
                        .couldNotConnect("Failed to connect to api.tosspayments.com port 443"), .other("boom")] {
            let http = RecordingHTTPClient(failure: failure)
            let toss = client(http)
            XCTAssertThrowsError(try toss.chargeBillingKey(
                Fixtures.billingKey, customerKey: "c", amount: 100, orderId: "o-000001", orderName: "n",
                customerEmail: nil, customerName: nil, idempotencyKey: "k")) { error in
                let text = "\(error) \(String(reflecting: error)) \((error as? TossError)?.message ?? "")"
                for secret in ["Z_t5vOvQxrj4499", "Z_t5vOvQxrj4499PeiJcjen28-V2RyqgYTwN44Rdzk0%3D", secretKey,
                               "dGVzdF9za196WExrS0V5cE5BcldtbzUwblgzbG1lYXhZRzVSOg==", "/billing/"] {
                    XCTAssertFalse(text.contains(secret), "\(failure) leaked \(secret): \(text)")
                }
            }
            XCTAssertFalse("\(http.lastRequest!)".contains("Basic"), "OutboundRequest's description shows no header values")
            XCTAssertFalse("\(http.lastRequest!)".contains("Z_t5v"), "OutboundRequest's description shows no URL")
        }
    }

    func testTimeoutAfterSendingChargeIsAmbiguousWithTheTimeInTheMessage() {
        let http = RecordingHTTPClient(failure: .timedOut(afterSending: true))
        XCTAssertThrowsError(try client(http).chargeBillingKey(
            "k", customerKey: "c", amount: 100, orderId: "o-000001", orderName: "n", customerEmail: nil,
            customerName: nil, idempotencyKey: "k")) { error in
            let toss = error as? TossError
            XCTAssertEqual(toss?.kind, .ambiguous)
            XCTAssertEqual(toss?.code, "PG_TIMEOUT")
            XCTAssertTrue(toss?.message.contains("60 s") == true, toss?.message ?? "")
        }
    }

    func testEmptyKeysAreRefusedWithoutACall() {
        let http = RecordingHTTPClient(status: 200, body: Fixtures.payment())
        XCTAssertThrowsError(try client(http).payment(paymentKey: "")) { error in
            XCTAssertEqual((error as? TossError)?.kind, .invalidRequest)
        }
        XCTAssertThrowsError(try client(http).deleteBillingKey(""))
        XCTAssertTrue(http.requests.isEmpty)
    }
}
