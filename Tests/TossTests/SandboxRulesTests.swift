import Foundation
import XCTest
@testable import Toss
#if canImport(Glibc)
import Glibc
#endif

/// The sandbox's own rules (docs/sandbox.md), over raw HTTP: no `TossClient` in the way, so these test
/// the sandbox itself.
final class SandboxRulesTests: XCTestCase {
    private var sandbox: SandboxHTTP!
    private var baseURL = ""

    override func setUpWithError() throws {
        baseURL = try InProcessSandbox.shared().baseURL
        sandbox = SandboxHTTP(baseURL: baseURL)
        try sandbox.reset()
    }

    private func assertTossAnswer(_ response: SandboxResponse, _ status: Int, _ code: String,
                                  file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(response.status, status, response.text, file: file, line: line)
        XCTAssertEqual(response.code, code, response.text, file: file, line: line)
        XCTAssertFalse((response.object["message"] as? String ?? "").isEmpty, "a message: \(response.text)",
                       file: file, line: line)
        XCTAssertEqual(response.headers["content-type"], "application/json", file: file, line: line)
    }

    /// A billing key for `customerKey` (raw API calls).
    private func issueBillingKey(customerKey: String, cardNumber: String = "4330123412341234") throws -> String {
        let authKey = try sandbox.authorizeBilling(customerKey: customerKey, cardNumber: cardNumber)
        let response = try sandbox.api("POST", "/v1/billing/authorizations/issue",
                                       body: ["authKey": authKey, "customerKey": customerKey])
        guard response.status == 200, let key = response.object["billingKey"] as? String else {
            throw ControlFailure("issue: HTTP \(response.status) \(response.text)")
        }
        return key
    }

    private func chargeBody(customerKey: String, orderId: String, amount: Any = 9900) -> [String: Any] {
        ["customerKey": customerKey, "orderId": orderId, "amount": amount, "orderName": "월간 구독"]
    }

    private func chargePath(_ billingKey: String) -> String {
        "/v1/billing/" + SandboxHTTP.encode(billingKey)
    }

    private func confirmed(amount: Int) throws -> [String: Any] {
        let orderId = uniqueOrderId("conf")
        let paymentKey = try sandbox.authorizePayment(orderId: orderId, amount: amount)
        let response = try sandbox.api("POST", "/v1/payments/confirm",
                                       body: ["paymentKey": paymentKey, "orderId": orderId, "amount": amount])
        guard response.status == 200 else { throw ControlFailure("confirm: HTTP \(response.status) \(response.text)") }
        return response.object
    }

    // MARK: Basic auth

    func testMissingAuthorizationIsIncorrectBasicAuthFormat() throws {
        assertTossAnswer(try sandbox.api("GET", "/v1/payments/orders/order-0001", secretKey: nil),
                         403, "INCORRECT_BASIC_AUTH_FORMAT")
        assertTossAnswer(try sandbox.api("POST", "/v1/payments/confirm", body: [:] as [String: Any], secretKey: nil),
                         403, "INCORRECT_BASIC_AUTH_FORMAT")
    }

    func testAuthorizationWithoutTheColonIsIncorrectBasicAuthFormat() throws {
        let noColon = "Basic " + Data(SandboxHTTP.secretKey.utf8).base64EncodedString()
        assertTossAnswer(try sandbox.api("GET", "/v1/payments/orders/order-0001", secretKey: nil,
                                         headers: [("Authorization", noColon)]),
                         403, "INCORRECT_BASIC_AUTH_FORMAT")
    }

    func testMalformedAuthorizationIsIncorrectBasicAuthFormat() throws {
        for value in ["Basic", "Basic ", "Basic !!!not-base64!!!", "Bearer " + SandboxHTTP.secretKey,
                      SandboxHTTP.basic(SandboxHTTP.secretKey).replacingOccurrences(of: "Basic ", with: "")] {
            assertTossAnswer(try sandbox.api("GET", "/v1/payments/orders/order-0001", secretKey: nil,
                                             headers: [("Authorization", value)]),
                             403, "INCORRECT_BASIC_AUTH_FORMAT")
        }
    }

    func testUnknownKeyIsUnauthorized() throws {
        for key in ["live_sk_realMoney", "test_ck_clientKeyNotSecret", "test_sk_bad!chars", "", "sk_test_stripe"] {
            assertTossAnswer(try sandbox.api("GET", "/v1/payments/orders/order-0001", secretKey: key),
                             401, "UNAUTHORIZED_KEY")
        }
        // The widget family is accepted; lowercase "basic" too.
        XCTAssertEqual(try sandbox.api("GET", "/v1/payments/orders/order-0001", secretKey: "test_gsk_widget-Key_1").code,
                       "NOT_FOUND_PAYMENT")
        let lower = SandboxHTTP.basic(SandboxHTTP.secretKey).replacingOccurrences(of: "Basic ", with: "basic ")
        XCTAssertEqual(try sandbox.api("GET", "/v1/payments/orders/order-0001", secretKey: nil,
                                       headers: [("Authorization", lower)]).code, "NOT_FOUND_PAYMENT")
    }

    func testUnauthenticatedCallsExecuteNothing() throws {
        let customerKey = "cus_noauth"
        let billingKey = try issueBillingKey(customerKey: customerKey)
        let orderId = uniqueOrderId("noauth")
        XCTAssertEqual(try sandbox.api("POST", chargePath(billingKey),
                                       body: chargeBody(customerKey: customerKey, orderId: orderId),
                                       secretKey: "live_sk_nope").status, 401)
        XCTAssertEqual(try sandbox.payments("orderId=" + orderId).count, 0)
    }

    func testUnknownRoutesAndMethods() throws {
        assertTossAnswer(try sandbox.api("GET", "/v1/nothing/here"), 404, "NOT_FOUND")
        assertTossAnswer(try sandbox.api("GET", "/v1/payments/confirm"), 405, "METHOD_NOT_ALLOWED")
        assertTossAnswer(try sandbox.api("DELETE", "/v1/payments/some-payment"), 405, "METHOD_NOT_ALLOWED")
        let notJSON = try sandbox.api("POST", "/v1/payments/confirm", body: "paymentKey=x",
                                      headers: [("Content-Type", "application/json")])
        assertTossAnswer(notJSON, 400, "INVALID_REQUEST")
    }

    // MARK: Field formats

    func testOrderIdFormatOnCharge() throws {
        let customerKey = "cus_orderid"
        let billingKey = try issueBillingKey(customerKey: customerKey)
        let refused = ["abc12", String(repeating: "a", count: 65), "order.12345", "order 12345", "order/12345",
                       "주문번호123456", "order+12345", "order#12345"]
        for orderId in refused {
            let response = try sandbox.api("POST", chargePath(billingKey),
                                           body: chargeBody(customerKey: customerKey, orderId: orderId))
            assertTossAnswer(response, 400, "INVALID_REQUEST")
        }
        let accepted = ["abc123", String(repeating: "b", count: 64), "order_1-2=3", "ORDER-2025-01"]
        for orderId in accepted {
            let response = try sandbox.api("POST", chargePath(billingKey),
                                           body: chargeBody(customerKey: customerKey, orderId: orderId))
            XCTAssertEqual(response.status, 200, "\(orderId): \(response.text)")
            XCTAssertEqual(response.object["orderId"] as? String, orderId)
        }
        XCTAssertEqual(try sandbox.payments("customerKey=" + customerKey).count, accepted.count)
    }

    func testOrderIdFormatOnPaymentAuthorization() throws {
        for orderId in ["abc12", String(repeating: "c", count: 65), "order.12345"] {
            let response = try sandbox.send("POST", "/sandbox/payments/authorize",
                                            body: ["orderId": orderId, "amount": 1000])
            XCTAssertEqual(response.status, 400, orderId)
            XCTAssertEqual(response.code, "INVALID_REQUEST", orderId)
        }
    }

    func testCustomerKeyFormat() throws {
        let refused = ["a", String(repeating: "k", count: 51), "cus key", "cus/key", "cus,key", "고객키", "@@ANONYMOUS", ""]
        for customerKey in refused {
            let response = try sandbox.send("POST", "/sandbox/billing/authorize", body: ["customerKey": customerKey])
            XCTAssertEqual(response.status, 400, "\(customerKey): \(response.text)")
            XCTAssertEqual(response.code, "INVALID_REQUEST", customerKey)
        }
        for customerKey in ["ab", String(repeating: "k", count: 50), "a.b@c-d_e=f", "cus_8f3e2c1a-77aa"] {
            XCTAssertNoThrow(try sandbox.authorizeBilling(customerKey: customerKey), customerKey)
        }
    }

    func testIssueWithAnotherCustomerKeyIsRefusedAndKeepsTheAuthKey() throws {
        let authKey = try sandbox.authorizeBilling(customerKey: "cus_first")
        assertTossAnswer(try sandbox.api("POST", "/v1/billing/authorizations/issue",
                                         body: ["authKey": authKey, "customerKey": "cus_second"]),
                         400, "INVALID_REQUEST")
        let issued = try sandbox.api("POST", "/v1/billing/authorizations/issue",
                                     body: ["authKey": authKey, "customerKey": "cus_first"])
        XCTAssertEqual(issued.status, 200, issued.text)
        assertTossAnswer(try sandbox.api("POST", "/v1/billing/authorizations/issue",
                                         body: ["authKey": authKey, "customerKey": "cus_first"]),
                         400, "INVALID_AUTH_KEY")
        assertTossAnswer(try sandbox.api("POST", "/v1/billing/authorizations/issue",
                                         body: ["authKey": "bln_nope", "customerKey": "cus_first"]),
                         404, "NOT_FOUND")
    }

    func testBillingObjectShape() throws {
        let authKey = try sandbox.authorizeBilling(customerKey: "cus_shape", cardNumber: "9410 1234 5678 9012")
        let response = try sandbox.api("POST", "/v1/billing/authorizations/issue",
                                       body: ["authKey": authKey, "customerKey": "cus_shape"])
        let billing = response.object
        XCTAssertEqual(billing["mId"] as? String, "gudok_sandbox")
        XCTAssertEqual(billing["method"] as? String, "카드")
        XCTAssertEqual(billing["customerKey"] as? String, "cus_shape")
        XCTAssertEqual(billing["cardCompany"] as? String, "KB국민")
        XCTAssertEqual(billing["cardNumber"] as? String, "94101234****901*")
        let card = try XCTUnwrap(billing["card"] as? [String: Any])
        XCTAssertEqual(card["issuerCode"] as? String, "11")
        XCTAssertEqual(card["number"] as? String, "94101234****901*")
        let key = try XCTUnwrap(billing["billingKey"] as? String)
        XCTAssertEqual(Data(base64Encoded: key)?.count, 32, key)
    }

    func testIssuerCodesFromTheCardNumber() throws {
        let expected = [("4330123412341234", "61", "현대"), ("5111222233334444", "41", "신한"),
                        ("9111222233334444", "11", "KB국민"), ("3511222233334444", "51", "삼성"),
                        ("3711222233334444", "51", "삼성"), ("6111222233334444", "91", "NH농협"),
                        ("4111222233334444", "31", "BC")]
        for (index, (number, code, company)) in expected.enumerated() {
            let customerKey = "cus_issuer_\(index)"
            let authKey = try sandbox.authorizeBilling(customerKey: customerKey, cardNumber: number)
            let billing = try sandbox.api("POST", "/v1/billing/authorizations/issue",
                                          body: ["authKey": authKey, "customerKey": customerKey]).object
            XCTAssertEqual((billing["card"] as? [String: Any])?["issuerCode"] as? String, code, number)
            XCTAssertEqual(billing["cardCompany"] as? String, company, number)
        }
    }

    // MARK: Amounts

    func testAmountBelowOneHundredIsBelowMinimum() throws {
        let customerKey = "cus_minimum"
        let billingKey = try issueBillingKey(customerKey: customerKey)
        assertTossAnswer(try sandbox.api("POST", chargePath(billingKey),
                                         body: chargeBody(customerKey: customerKey, orderId: "min-order-99", amount: 99)),
                         400, "BELOW_MINIMUM_AMOUNT")
        XCTAssertEqual(try sandbox.payments("orderId=min-order-99").count, 0)
        let hundred = try sandbox.api("POST", chargePath(billingKey),
                                      body: chargeBody(customerKey: customerKey, orderId: "min-order-100", amount: 100))
        XCTAssertEqual(hundred.status, 200, hundred.text)

        let paymentKey = try sandbox.authorizePayment(orderId: "min-confirm-50", amount: 50)
        assertTossAnswer(try sandbox.api("POST", "/v1/payments/confirm",
                                         body: ["paymentKey": paymentKey, "orderId": "min-confirm-50", "amount": 50]),
                         400, "BELOW_MINIMUM_AMOUNT")
    }

    func testConfirmAcceptsTheAmountAsAStringOfDigits() throws {
        let orderId = uniqueOrderId("string")
        let paymentKey = try sandbox.authorizePayment(orderId: orderId, amount: 50_000)
        let bad = try sandbox.api("POST", "/v1/payments/confirm",
                                  body: ["paymentKey": paymentKey, "orderId": orderId, "amount": "50,000"])
        assertTossAnswer(bad, 400, "INVALID_REQUEST")
        let response = try sandbox.api("POST", "/v1/payments/confirm",
                                       body: ["paymentKey": paymentKey, "orderId": orderId, "amount": "50000"])
        XCTAssertEqual(response.status, 200, response.text)
        XCTAssertEqual(response.object["status"] as? String, "DONE")
        XCTAssertEqual(jsonInt(response.object["totalAmount"]), 50_000)
    }

    func testChargeAcceptsTheAmountAsAStringOfDigits() throws {
        let customerKey = "cus_string_amount"
        let billingKey = try issueBillingKey(customerKey: customerKey)
        let response = try sandbox.api("POST", chargePath(billingKey),
                                       body: chargeBody(customerKey: customerKey, orderId: "string-amount-1", amount: "4900"))
        XCTAssertEqual(response.status, 200, response.text)
        XCTAssertEqual(jsonInt(response.object["totalAmount"]), 4900)
    }

    // MARK: Confirm rules

    func testConfirmRules() throws {
        let orderId = uniqueOrderId("rules")
        let paymentKey = try sandbox.authorizePayment(orderId: orderId, amount: 9900)
        func confirm(_ body: [String: Any]) throws -> SandboxResponse {
            try sandbox.api("POST", "/v1/payments/confirm", body: body)
        }
        assertTossAnswer(try confirm(["paymentKey": paymentKey, "orderId": orderId]), 400, "INVALID_REQUEST")
        assertTossAnswer(try confirm(["paymentKey": paymentKey, "orderId": "other-order", "amount": 9900]),
                         400, "INVALID_REQUEST")
        assertTossAnswer(try confirm(["paymentKey": paymentKey, "orderId": orderId, "amount": 9901]),
                         400, "INVALID_REQUEST")
        assertTossAnswer(try confirm(["paymentKey": "tgen_unknown", "orderId": orderId, "amount": 9900]),
                         404, "NOT_FOUND_PAYMENT_SESSION")
        XCTAssertEqual(try confirm(["paymentKey": paymentKey, "orderId": orderId, "amount": 9900]).status, 200)
        assertTossAnswer(try confirm(["paymentKey": paymentKey, "orderId": orderId, "amount": 9900]),
                         400, "ALREADY_PROCESSED_PAYMENT")
    }

    func testConfirmWindowIsTenMinutes() throws {
        let inside = try sandbox.authorizePayment(orderId: "window-inside", amount: 1000)
        let outside = try sandbox.authorizePayment(orderId: "window-outside", amount: 1000)
        try sandbox.advanceClock(seconds: 590)
        XCTAssertEqual(try sandbox.api("POST", "/v1/payments/confirm",
                                       body: ["paymentKey": inside, "orderId": "window-inside", "amount": 1000]).status, 200)
        try sandbox.advanceClock(seconds: 11)
        assertTossAnswer(try sandbox.api("POST", "/v1/payments/confirm",
                                         body: ["paymentKey": outside, "orderId": "window-outside", "amount": 1000]),
                         404, "NOT_FOUND_PAYMENT_SESSION")
        XCTAssertEqual(try sandbox.api("GET", "/v1/payments/" + outside).object["status"] as? String, "EXPIRED")
        XCTAssertEqual(try sandbox.api("GET", "/v1/payments/" + inside).object["status"] as? String, "DONE")
    }

    func testANewPaymentWindowForTheSameOrderExpiresTheOldOne() throws {
        let old = try sandbox.authorizePayment(orderId: "order-again", amount: 1000)
        let new = try sandbox.authorizePayment(orderId: "order-again", amount: 1000)
        XCTAssertNotEqual(old, new)
        assertTossAnswer(try sandbox.api("POST", "/v1/payments/confirm",
                                         body: ["paymentKey": old, "orderId": "order-again", "amount": 1000]),
                         404, "NOT_FOUND_PAYMENT_SESSION")
        XCTAssertEqual(try sandbox.api("POST", "/v1/payments/confirm",
                                       body: ["paymentKey": new, "orderId": "order-again", "amount": 1000]).status, 200)
        // Once approved, the orderId is taken.
        let third = try sandbox.send("POST", "/sandbox/payments/authorize", body: ["orderId": "order-again", "amount": 1000])
        XCTAssertEqual(third.status, 400)
        XCTAssertEqual(third.code, "DUPLICATED_ORDER_ID")
    }

    func testDecliningCardsAtConfirm() throws {
        for (card, code) in [("4000000000000036", "REJECT_CARD_PAYMENT"), ("4000000000000044", "REJECT_CARD_COMPANY")] {
            let orderId = uniqueOrderId("declined")
            let paymentKey = try sandbox.authorizePayment(orderId: orderId, amount: 9900, cardNumber: card)
            assertTossAnswer(try sandbox.api("POST", "/v1/payments/confirm",
                                             body: ["paymentKey": paymentKey, "orderId": orderId, "amount": 9900]),
                             403, code)
            let payment = try sandbox.api("GET", "/v1/payments/" + paymentKey).object
            XCTAssertEqual(payment["status"] as? String, "ABORTED")
            XCTAssertEqual((payment["failure"] as? [String: Any])?["code"] as? String, code)
        }
        // Refused at authentication: no payment at all.
        let refused = try sandbox.send("POST", "/sandbox/payments/authorize",
                                       body: ["orderId": "auth-refused", "amount": 1000, "cardNumber": "4000000000000002"])
        XCTAssertEqual(refused.status, 403)
        XCTAssertEqual(refused.code, "REJECT_CARD_COMPANY")
        XCTAssertEqual(try sandbox.payments("orderId=auth-refused").count, 0)
    }

    // MARK: Payment object

    func testPaymentObjectFields() throws {
        let payment = try confirmed(amount: 11_000)
        let paymentKey = try XCTUnwrap(payment["paymentKey"] as? String)
        XCTAssertEqual(payment["mId"] as? String, "gudok_sandbox")
        XCTAssertEqual(payment["version"] as? String, "2022-11-16")
        XCTAssertEqual(payment["method"] as? String, "카드")
        XCTAssertEqual(payment["type"] as? String, "NORMAL")
        XCTAssertEqual(payment["currency"] as? String, "KRW")
        XCTAssertEqual(payment["country"] as? String, "KR")
        XCTAssertEqual(jsonInt(payment["vat"]), 1000)
        XCTAssertEqual(jsonInt(payment["suppliedAmount"]), 10_000)
        XCTAssertEqual(jsonBool(payment["isPartialCancelable"]), true)
        XCTAssertTrue(payment["cancels"] is NSNull, "cancels is null before any cancel")
        XCTAssertEqual((payment["receipt"] as? [String: Any])?["url"] as? String, baseURL + "/receipt/" + paymentKey)
        XCTAssertEqual((payment["checkout"] as? [String: Any])?["url"] as? String,
                       baseURL + "/v1/payments/" + paymentKey + "/checkout")
        let card = try XCTUnwrap(payment["card"] as? [String: Any])
        XCTAssertEqual(card["number"] as? String, "43301234****123*")
        XCTAssertEqual(jsonInt(card["amount"]), 11_000)
        XCTAssertEqual(card["acquireStatus"] as? String, "READY")
        let kst = try NSRegularExpression(pattern: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+09:00$"#)
        for field in ["requestedAt", "approvedAt"] {
            let stamp = try XCTUnwrap(payment[field] as? String, field)
            XCTAssertEqual(kst.numberOfMatches(in: stamp, range: NSRange(stamp.startIndex..., in: stamp)), 1, stamp)
        }

        let canceled = try sandbox.api("POST", "/v1/payments/\(paymentKey)/cancel",
                                       body: ["cancelReason": "부분", "cancelAmount": 5500]).object
        XCTAssertEqual(jsonInt(canceled["balanceAmount"]), 5500)
        XCTAssertEqual(jsonInt(canceled["totalAmount"]), 11_000)
        XCTAssertEqual(jsonInt(canceled["vat"]), 500)
        XCTAssertEqual(jsonInt(canceled["suppliedAmount"]), 5000)
        let cancels = try XCTUnwrap(canceled["cancels"] as? [[String: Any]])
        XCTAssertEqual(cancels.count, 1)
        XCTAssertEqual(jsonInt(cancels[0]["refundableAmount"]), 5500)
        XCTAssertEqual(cancels[0]["cancelStatus"] as? String, "DONE")
        XCTAssertEqual(canceled["lastTransactionKey"] as? String, cancels[0]["transactionKey"] as? String)
    }

    func testEveryAPIAnswerCarriesATraceId() throws {
        let answers = [try sandbox.api("GET", "/v1/payments/orders/order-0001"),
                       try sandbox.api("GET", "/v1/payments/orders/order-0001", secretKey: nil),
                       try sandbox.api("GET", "/v1/payments/" + (try confirmed(amount: 1000)["paymentKey"] as? String ?? ""))]
        let ids = answers.compactMap { $0.headers["x-tosspayments-trace-id"] }
        XCTAssertEqual(ids.count, answers.count)
        XCTAssertEqual(Set(ids).count, ids.count, "a new trace id per answer")
    }

    // MARK: Cancel rules

    func testCancelRules() throws {
        let orderId = uniqueOrderId("cancelrules")
        let pending = try sandbox.authorizePayment(orderId: orderId, amount: 10_000)
        assertTossAnswer(try sandbox.api("POST", "/v1/payments/\(pending)/cancel", body: ["cancelReason": "아직"]),
                         403, "NOT_CANCELABLE_PAYMENT")
        XCTAssertEqual(try sandbox.api("POST", "/v1/payments/confirm",
                                       body: ["paymentKey": pending, "orderId": orderId, "amount": 10_000]).status, 200)
        let path = "/v1/payments/\(pending)/cancel"
        assertTossAnswer(try sandbox.api("POST", path, body: ["cancelAmount": 100]), 400, "INVALID_REQUEST")
        assertTossAnswer(try sandbox.api("POST", path, body: ["cancelReason": "", "cancelAmount": 100]),
                         400, "INVALID_REQUEST")
        assertTossAnswer(try sandbox.api("POST", path, body: ["cancelReason": "0원", "cancelAmount": 0]),
                         400, "INVALID_REQUEST")
        assertTossAnswer(try sandbox.api("POST", path, body: ["cancelReason": "많이", "cancelAmount": 10_001]),
                         403, "NOT_CANCELABLE_AMOUNT")
        assertTossAnswer(try sandbox.api("POST", path, body: ["cancelReason": "잔액", "cancelAmount": 100,
                                                              "refundableAmount": 9000]),
                         400, "NOT_MATCHES_REFUNDABLE_AMOUNT")
        let partial = try sandbox.api("POST", path, body: ["cancelReason": "잔액", "cancelAmount": 1000,
                                                           "refundableAmount": 10_000])
        XCTAssertEqual(partial.status, 200, partial.text)
        XCTAssertEqual(partial.object["status"] as? String, "PARTIAL_CANCELED")
        let full = try sandbox.api("POST", path, body: ["cancelReason": "나머지 전부"])
        XCTAssertEqual(full.object["status"] as? String, "CANCELED")
        XCTAssertEqual(jsonInt(full.object["balanceAmount"]), 0)
        XCTAssertEqual((full.object["cancels"] as? [[String: Any]])?.compactMap { jsonInt($0["cancelAmount"]) },
                       [1000, 9000])
        assertTossAnswer(try sandbox.api("POST", path, body: ["cancelReason": "또"]), 400, "ALREADY_CANCELED_PAYMENT")
        assertTossAnswer(try sandbox.api("POST", "/v1/payments/tgen_none/cancel", body: ["cancelReason": "?"]),
                         404, "NOT_FOUND_PAYMENT")
    }

    // MARK: Billing rules

    func testBillingKeyWorksPercentEncodedAndRaw() throws {
        let customerKey = "cus_encoding"
        // Keep issuing until the key holds a reserved character (almost always at once).
        var billingKey = try issueBillingKey(customerKey: customerKey)
        for _ in 0..<20 where !billingKey.contains(where: { "+/=".contains($0) }) {
            billingKey = try issueBillingKey(customerKey: customerKey)
        }
        let encoded = try sandbox.api("POST", chargePath(billingKey),
                                      body: chargeBody(customerKey: customerKey, orderId: "encoded-1"))
        XCTAssertEqual(encoded.status, 200, encoded.text)
        // Unencoded, `/`, `+` and `=` included.
        let raw = try sandbox.api("POST", "/v1/billing/" + billingKey,
                                  body: chargeBody(customerKey: customerKey, orderId: "raw-order-1"))
        XCTAssertEqual(raw.status, 200, "raw key \(billingKey): \(raw.text)")
        let deleted = try sandbox.api("DELETE", chargePath(billingKey))
        XCTAssertEqual(deleted.status, 200)
        XCTAssertEqual(deleted.body, [], "DELETE answers 200 with an empty body")
        assertTossAnswer(try sandbox.api("DELETE", chargePath(billingKey)), 404, "NOT_FOUND_BILLING")
        assertTossAnswer(try sandbox.api("POST", chargePath(billingKey),
                                         body: chargeBody(customerKey: customerKey, orderId: "after-delete")),
                         404, "NOT_FOUND_BILLING")
        let listed = try sandbox.send("GET", "/sandbox/billing-keys?customerKey=" + customerKey).array
        XCTAssertTrue(listed.contains { $0["billingKey"] as? String == billingKey && jsonBool($0["deleted"]) == true })
    }

    func testChargeRules() throws {
        let customerKey = "cus_chargerules"
        let billingKey = try issueBillingKey(customerKey: customerKey)
        let path = chargePath(billingKey)
        assertTossAnswer(try sandbox.api("POST", path, body: chargeBody(customerKey: "cus_other", orderId: "rules-1")),
                         400, "NOT_MATCHES_CUSTOMER_KEY")
        assertTossAnswer(try sandbox.api("POST", "/v1/billing/unknownKey",
                                         body: chargeBody(customerKey: customerKey, orderId: "rules-2")),
                         404, "NOT_FOUND_BILLING")
        var noName = chargeBody(customerKey: customerKey, orderId: "rules-3")
        noName["orderName"] = nil
        assertTossAnswer(try sandbox.api("POST", path, body: noName), 400, "INVALID_REQUEST")
        let done = try sandbox.api("POST", path, body: chargeBody(customerKey: customerKey, orderId: "rules-4"))
        XCTAssertEqual(done.object["type"] as? String, "BILLING")
        XCTAssertEqual(done.object["status"] as? String, "DONE")
        assertTossAnswer(try sandbox.api("POST", path, body: chargeBody(customerKey: customerKey, orderId: "rules-4")),
                         400, "DUPLICATED_ORDER_ID")
    }

    func testDeclinedChargeIsRecordedAbortedUnderItsOrderId() throws {
        let customerKey = "cus_declined"
        let billingKey = try issueBillingKey(customerKey: customerKey, cardNumber: "4000000000000036")
        assertTossAnswer(try sandbox.api("POST", chargePath(billingKey),
                                         body: chargeBody(customerKey: customerKey, orderId: "declined-1")),
                         403, "REJECT_CARD_PAYMENT")
        let records = try sandbox.payments("orderId=declined-1")
        XCTAssertEqual(records.count, 1)
        XCTAssertEqual(records.first?["status"] as? String, "ABORTED")
        XCTAssertEqual(jsonBool(records.first?["approved"]), false)
        XCTAssertEqual(try sandbox.charges(orderId: "declined-1").count, 0)
        let lookedUp = try sandbox.api("GET", "/v1/payments/orders/declined-1").object
        XCTAssertEqual(lookedUp["status"] as? String, "ABORTED")
        XCTAssertTrue(lookedUp["receipt"] is NSNull)
    }

    // MARK: Idempotency

    func testIdempotencyKeyOverThreeHundredCharactersIsRefused() throws {
        let customerKey = "cus_longkey"
        let billingKey = try issueBillingKey(customerKey: customerKey)
        let tooLong = try sandbox.api("POST", chargePath(billingKey),
                                      body: chargeBody(customerKey: customerKey, orderId: "long-key-1"),
                                      idempotencyKey: String(repeating: "k", count: 301))
        assertTossAnswer(tooLong, 400, "INVALID_IDEMPOTENCY_KEY")
        XCTAssertEqual(try sandbox.payments("orderId=long-key-1").count, 0, "refused before executing")
        let longest = try sandbox.api("POST", chargePath(billingKey),
                                      body: chargeBody(customerKey: customerKey, orderId: "long-key-1"),
                                      idempotencyKey: String(repeating: "k", count: 300))
        XCTAssertEqual(longest.status, 200, longest.text)
    }

    func testReplayIsMarkedInTheCallLogAndByteForByteTheSame() throws {
        let customerKey = "cus_replay"
        let billingKey = try issueBillingKey(customerKey: customerKey)
        let first = try sandbox.api("POST", chargePath(billingKey),
                                    body: chargeBody(customerKey: customerKey, orderId: "replay-1"), idempotencyKey: "rk-1")
        let second = try sandbox.api("POST", chargePath(billingKey),
                                     body: chargeBody(customerKey: customerKey, orderId: "replay-2", amount: 123_456),
                                     idempotencyKey: "rk-1")
        XCTAssertEqual(first.status, 200)
        XCTAssertEqual(second.status, 200)
        XCTAssertEqual(second.body, first.body, "the body of a replay is ignored")
        let calls = try sandbox.calls("idempotencyKey=rk-1")
        XCTAssertEqual(calls.count, 2)
        XCTAssertEqual(calls.map { jsonBool($0["replayed"]) }, [false, true])
        XCTAssertEqual(calls.map { jsonInt($0["status"]) }, [200, 200])
        XCTAssertEqual(calls.map { $0["orderId"] as? String }, ["replay-1", "replay-2"],
                       "the log keeps the orderId each request carried")
        XCTAssertEqual(try sandbox.payments("orderId=replay-2").count, 0)
    }

    func testIdempotencyScopeIsKeySecretKeyMethodAndPath() throws {
        let customerKey = "cus_scope"
        let billingKey = try issueBillingKey(customerKey: customerKey)
        let path = chargePath(billingKey)
        let first = try sandbox.api("POST", path, body: chargeBody(customerKey: customerKey, orderId: "scope-1"),
                                    idempotencyKey: "scope-key")
        XCTAssertEqual(first.status, 200)
        // Another secret key: a separate scope, so this executes.
        let otherSecret = try sandbox.api("POST", path, body: chargeBody(customerKey: customerKey, orderId: "scope-2"),
                                          secretKey: "test_sk_anotherMerchant", idempotencyKey: "scope-key")
        XCTAssertEqual(otherSecret.object["orderId"] as? String, "scope-2")
        // Another path: executes too (here: a cancel with the same key string).
        let paymentKey = try XCTUnwrap(first.object["paymentKey"] as? String)
        let cancel = try sandbox.api("POST", "/v1/payments/\(paymentKey)/cancel", body: ["cancelReason": "범위"],
                                     idempotencyKey: "scope-key")
        XCTAssertEqual(cancel.object["status"] as? String, "CANCELED")
        // GET ignores the header.
        _ = try sandbox.api("GET", "/v1/payments/orders/scope-1", headers: [("Idempotency-Key", "scope-key")])
        let lookups = try sandbox.calls("method=GET&path=/v1/payments/orders/scope-1")
        XCTAssertEqual(lookups.count, 1)
        XCTAssertTrue(lookups.first?["idempotencyKey"] is NSNull)
    }

    func testReplayWhileTheFirstIsRunningGetsConflict() throws {
        let customerKey = "cus_inflight"
        let billingKey = try issueBillingKey(customerKey: customerKey)
        try sandbox.addFault(["match": ["orderId": "inflight-1"], "action": "latency", "latencyMs": 1500])
        let path = chargePath(billingKey)
        let body = String(decoding: try JSONSerialization.data(
            withJSONObject: chargeBody(customerKey: customerKey, orderId: "inflight-1")), as: UTF8.self)
        let json = [("Content-Type", "application/json")]
        let firstAnswer = LockedBox<SandboxResponse>()
        let sandbox = self.sandbox!
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            firstAnswer.value = try? sandbox.api("POST", path, body: body, idempotencyKey: "inflight-key", headers: json)
            done.signal()
        }
        Thread.sleep(forTimeInterval: 0.4)
        // Another connection: the first request holds the shared client's.
        let concurrent = try SandboxHTTP(baseURL: baseURL).api("POST", path, body: body, idempotencyKey: "inflight-key",
                                                               headers: json)
        assertTossAnswer(concurrent, 409, "IDEMPOTENT_REQUEST_PROCESSING")
        XCTAssertEqual(done.wait(timeout: .now() + 10), .success)
        let first = try XCTUnwrap(firstAnswer.value)
        XCTAssertEqual(first.status, 200, first.text)
        let after = try sandbox.api("POST", path, body: body, idempotencyKey: "inflight-key", headers: json)
        XCTAssertEqual(after.body, first.body)
        XCTAssertEqual(try sandbox.charges(orderId: "inflight-1").count, 1)
    }

    func testIdempotencyKeysLastFifteenDays() throws {
        let customerKey = "cus_lifetime"
        let billingKey = try issueBillingKey(customerKey: customerKey)
        let path = chargePath(billingKey)
        let first = try sandbox.api("POST", path, body: chargeBody(customerKey: customerKey, orderId: "life-1"),
                                    idempotencyKey: "life-key")
        try sandbox.advanceClock(seconds: 15 * 86_400 - 60)
        let replay = try sandbox.api("POST", path, body: chargeBody(customerKey: customerKey, orderId: "life-2"),
                                     idempotencyKey: "life-key")
        XCTAssertEqual(replay.body, first.body, "still replayed just before 15 days")
        try sandbox.advanceClock(seconds: 120)
        let fresh = try sandbox.api("POST", path, body: chargeBody(customerKey: customerKey, orderId: "life-3"),
                                    idempotencyKey: "life-key")
        XCTAssertEqual(fresh.status, 200, fresh.text)
        XCTAssertEqual(fresh.object["orderId"] as? String, "life-3", "after 15 days the key executes again")
    }

    func testConcurrentChargesWithOneIdempotencyKeyExecuteOnce() throws {
        let customerKey = "cus_race_key"
        let billingKey = try issueBillingKey(customerKey: customerKey)
        let path = chargePath(billingKey)
        let body = String(decoding: try JSONSerialization.data(
            withJSONObject: chargeBody(customerKey: customerKey, orderId: "race-key-1")), as: UTF8.self)
        let sandbox = self.sandbox!
        let answers = LockedBox<[SandboxResponse]>()
        answers.value = []
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            if let answer = try? sandbox.api("POST", path, body: body, idempotencyKey: "race-key",
                                             headers: [("Content-Type", "application/json")]) {
                answers.mutate { $0?.append(answer) }
            }
        }
        let all = try XCTUnwrap(answers.value)
        XCTAssertEqual(all.count, 8)
        let ok = all.filter { $0.status == 200 }
        XCTAssertGreaterThanOrEqual(ok.count, 1)
        XCTAssertEqual(Set(ok.compactMap { $0.object["paymentKey"] as? String }).count, 1, "one payment")
        XCTAssertTrue(all.allSatisfy { $0.status == 200 || $0.code == "IDEMPOTENT_REQUEST_PROCESSING" },
                      all.map(\.text).joined(separator: "\n"))
        XCTAssertEqual(try sandbox.charges(orderId: "race-key-1").count, 1)
        XCTAssertEqual(try sandbox.calls("idempotencyKey=race-key").filter { jsonBool($0["replayed"]) == false
            && jsonInt($0["status"]) == 200 }.count, 1, "exactly one execution")
    }

    func testConcurrentChargesOfOneOrderIdApproveOnce() throws {
        let customerKey = "cus_race_order"
        let billingKey = try issueBillingKey(customerKey: customerKey)
        let path = chargePath(billingKey)
        let body = String(decoding: try JSONSerialization.data(
            withJSONObject: chargeBody(customerKey: customerKey, orderId: "race-order-1")), as: UTF8.self)
        let sandbox = self.sandbox!
        let answers = LockedBox<[SandboxResponse]>()
        answers.value = []
        DispatchQueue.concurrentPerform(iterations: 8) { index in
            if let answer = try? sandbox.api("POST", path, body: body, idempotencyKey: "race-order-\(index)",
                                             headers: [("Content-Type", "application/json")]) {
                answers.mutate { $0?.append(answer) }
            }
        }
        let all = try XCTUnwrap(answers.value)
        XCTAssertEqual(all.count, 8)
        XCTAssertEqual(all.filter { $0.status == 200 }.count, 1)
        XCTAssertEqual(all.filter { $0.code == "DUPLICATED_ORDER_ID" }.count, 7)
        XCTAssertEqual(try sandbox.charges(orderId: "race-order-1").count, 1)
    }

    func testManyConcurrentChargesAllLand() throws {
        let customerKey = "cus_many"
        let billingKey = try issueBillingKey(customerKey: customerKey)
        let path = chargePath(billingKey)
        let sandbox = self.sandbox!
        let failures = LockedCounter()
        DispatchQueue.concurrentPerform(iterations: 50) { index in
            let body = #"{"customerKey":"cus_many","orderId":"many-\#(index)-order","amount":1000,"orderName":"x"}"#
            let answer = try? sandbox.api("POST", path, body: body, idempotencyKey: "many-\(index)",
                                          headers: [("Content-Type", "application/json")])
            if answer?.status != 200 { failures.increment() }
        }
        XCTAssertEqual(failures.value, 0)
        XCTAssertEqual(try sandbox.send("GET", "/sandbox/charges?customerKey=cus_many").array.count, 50)
    }

    // MARK: TossPayments-Test-Code

    func testTestCodeHeaderAnswersThatErrorWithoutExecuting() throws {
        let customerKey = "cus_testcode"
        let billingKey = try issueBillingKey(customerKey: customerKey)
        let body = chargeBody(customerKey: customerKey, orderId: "testcode-1")
        assertTossAnswer(try sandbox.api("POST", chargePath(billingKey), body: body,
                                         headers: [("TossPayments-Test-Code", "REJECT_CARD_PAYMENT")]),
                         403, "REJECT_CARD_PAYMENT")
        assertTossAnswer(try sandbox.api("POST", chargePath(billingKey), body: body,
                                         headers: [("TossPayments-Test-Code", "FAILED_INTERNAL_SYSTEM_PROCESSING")]),
                         500, "FAILED_INTERNAL_SYSTEM_PROCESSING")
        assertTossAnswer(try sandbox.api("POST", chargePath(billingKey), body: body,
                                         headers: [("TossPayments-Test-Code", "SOME_CODE_NOBODY_KNOWS")]),
                         400, "SOME_CODE_NOBODY_KNOWS")
        assertTossAnswer(try sandbox.api("GET", "/v1/payments/orders/testcode-1",
                                         headers: [("TossPayments-Test-Code", "NOT_FOUND_PAYMENT")]),
                         404, "NOT_FOUND_PAYMENT")
        XCTAssertEqual(try sandbox.payments("orderId=testcode-1").count, 0, "nothing was executed")
        // Auth still comes first.
        assertTossAnswer(try sandbox.api("GET", "/v1/payments/orders/testcode-1", secretKey: "live_sk_x",
                                         headers: [("TossPayments-Test-Code", "NOT_FOUND_PAYMENT")]),
                         401, "UNAUTHORIZED_KEY")
        // The test-code answer is not stored for replay.
        _ = try sandbox.api("POST", chargePath(billingKey), body: body, idempotencyKey: "tc-key",
                            headers: [("TossPayments-Test-Code", "REJECT_CARD_PAYMENT")])
        let real = try sandbox.api("POST", chargePath(billingKey), body: body, idempotencyKey: "tc-key")
        XCTAssertEqual(real.status, 200, real.text)
    }

    // MARK: Faults

    func testFaultCountMatchAndRemoval() throws {
        try sandbox.addFault(["match": ["orderId": "fault-count"], "action": "error", "status": 500, "count": 2])
        XCTAssertEqual(try sandbox.api("GET", "/v1/payments/orders/fault-count").status, 500)
        XCTAssertEqual(try sandbox.api("GET", "/v1/payments/orders/other-order").status, 404, "not matched")
        XCTAssertEqual(try sandbox.api("GET", "/v1/payments/orders/fault-count").status, 500)
        XCTAssertEqual(try sandbox.api("GET", "/v1/payments/orders/fault-count").status, 404, "used up")
        XCTAssertEqual(try sandbox.send("GET", "/sandbox/faults").array.count, 0)

        let forever = try sandbox.addFault(["match": ["path": "/v1/payments/orders/*", "method": "GET"],
                                            "action": "error", "status": 503, "count": -1])
        for _ in 0..<3 { XCTAssertEqual(try sandbox.api("GET", "/v1/payments/orders/any-order").status, 503) }
        XCTAssertEqual(try sandbox.api("GET", "/v1/payments/some-key").status, 404, "path prefix not matched")
        let listed = try sandbox.send("GET", "/sandbox/faults").array
        XCTAssertEqual(listed.first?["id"] as? String, forever)
        XCTAssertEqual(jsonInt(listed.first?["hits"]), 3)
        XCTAssertEqual(try sandbox.send("DELETE", "/sandbox/faults/" + forever).status, 200)
        XCTAssertEqual(try sandbox.send("DELETE", "/sandbox/faults/" + forever).status, 404)
        XCTAssertEqual(try sandbox.api("GET", "/v1/payments/orders/any-order").status, 404)

        try sandbox.addFault(["action": "error", "count": -1])
        XCTAssertEqual(try sandbox.api("GET", "/v1/payments/orders/any-order").status, 500, "empty match: every call")
        XCTAssertEqual(try sandbox.send("DELETE", "/sandbox/faults").status, 200)
        XCTAssertEqual(try sandbox.api("GET", "/v1/payments/orders/any-order").status, 404)
    }

    func testFaultsMatchThroughTheKeyACallNames() throws {
        let customerKey = "cus_related"
        let billingKey = try issueBillingKey(customerKey: customerKey, cardNumber: "5111-2222-3333-4444")
        // DELETE /v1/billing/{key} has no body; the customerKey comes from the key it names.
        try sandbox.addFault(["match": ["customerKey": customerKey], "action": "error", "status": 500])
        XCTAssertEqual(try sandbox.api("DELETE", chargePath(billingKey)).status, 500)
        // A lookup by paymentKey matches on the payment's card number (given with dashes).
        let charged = try sandbox.api("POST", chargePath(billingKey),
                                      body: chargeBody(customerKey: customerKey, orderId: "related-1")).object
        let paymentKey = try XCTUnwrap(charged["paymentKey"] as? String)
        try sandbox.addFault(["match": ["cardNumber": "5111-2222-3333-4444"], "action": "error", "status": 502])
        XCTAssertEqual(try sandbox.api("GET", "/v1/payments/" + paymentKey).status, 502)
        try sandbox.addFault(["match": ["billingKey": billingKey], "action": "error", "status": 504])
        XCTAssertEqual(try sandbox.api("GET", "/v1/payments/orders/related-1").status, 504)
    }

    func testDeclineFault() throws {
        let customerKey = "cus_declinefault"
        let billingKey = try issueBillingKey(customerKey: customerKey)
        try sandbox.addFault(["match": ["customerKey": customerKey], "action": "decline"])
        assertTossAnswer(try sandbox.api("POST", chargePath(billingKey),
                                         body: chargeBody(customerKey: customerKey, orderId: "decline-fault")),
                         403, "REJECT_CARD_PAYMENT")
        XCTAssertEqual(try sandbox.payments("orderId=decline-fault").first?["status"] as? String, "ABORTED")
        try sandbox.addFault(["match": ["customerKey": customerKey], "action": "decline", "code": "EXCEED_MAX_AMOUNT",
                              "status": 400, "message": "한도 초과 (테스트)"])
        let custom = try sandbox.api("POST", chargePath(billingKey),
                                     body: chargeBody(customerKey: customerKey, orderId: "decline-fault-2"))
        assertTossAnswer(custom, 400, "EXCEED_MAX_AMOUNT")
        XCTAssertEqual(custom.object["message"] as? String, "한도 초과 (테스트)")
        // Calls that are not approvals just get the answer.
        try sandbox.addFault(["match": ["orderId": "decline-lookup"], "action": "decline"])
        assertTossAnswer(try sandbox.api("GET", "/v1/payments/orders/decline-lookup"), 403, "REJECT_CARD_PAYMENT")
    }

    func testFaultsFireOnlyAfterAuth() throws {
        try sandbox.addFault(["match": ["orderId": "after-auth"], "action": "error", "status": 500])
        assertTossAnswer(try sandbox.api("GET", "/v1/payments/orders/after-auth", secretKey: "live_sk_x"),
                         401, "UNAUTHORIZED_KEY")
        assertTossAnswer(try sandbox.api("GET", "/v1/payments/orders/after-auth", secretKey: nil),
                         403, "INCORRECT_BASIC_AUTH_FORMAT")
        XCTAssertEqual(jsonInt(try sandbox.send("GET", "/sandbox/faults").array.first?["hits"]), 0, "not consumed")
        XCTAssertEqual(try sandbox.api("GET", "/v1/payments/orders/after-auth").status, 500)
    }

    func testBadFaultRulesAreRefused() throws {
        for rule: [String: Any] in [["action": "explode"], [:], ["action": "error", "match": ["colour": "red"]],
                                    ["action": "error", "count": 0], ["action": "timeout", "latencyMs": -1],
                                    ["action": "error", "status": 99], ["action": "error", "apply": "yes"]] {
            let response = try sandbox.send("POST", "/sandbox/faults", body: rule)
            XCTAssertEqual(response.status, 400, "\(rule): \(response.text)")
        }
        XCTAssertEqual(try sandbox.send("GET", "/sandbox/faults").array.count, 0)
    }

    func testTimeoutAndResetOutcomesInTheCallLog() throws {
        try sandbox.addFault(["match": ["orderId": "held-order"], "action": "timeout", "latencyMs": 300])
        try sandbox.addFault(["match": ["orderId": "reset-order"], "action": "reset"])
        // Fresh clients: libcurl would resend on a reused connection that dies without an answer.
        XCTAssertThrowsError(try SandboxHTTP(baseURL: baseURL).api("GET", "/v1/payments/orders/held-order",
                                                                   timeout: 5)) { error in
            XCTAssertEqual(error as? HTTPClientError, .connectionLost(afterSending: true), "closed without an answer")
        }
        XCTAssertThrowsError(try SandboxHTTP(baseURL: baseURL).api("GET", "/v1/payments/orders/reset-order")) { error in
            XCTAssertEqual(error as? HTTPClientError, .connectionLost(afterSending: true))
        }
        let held = try XCTUnwrap(try sandbox.calls("orderId=held-order").first)
        XCTAssertEqual(held["outcome"] as? String, "timeout")
        XCTAssertTrue(held["status"] is NSNull)
        XCTAssertEqual((held["fault"] as? String)?.hasPrefix("flt_"), true)
        let reset = try XCTUnwrap(try sandbox.calls("orderId=reset-order").first)
        XCTAssertEqual(reset["outcome"] as? String, "reset")
    }

    // MARK: Call log, clock, reset

    func testCallLogFilters() throws {
        _ = try sandbox.api("GET", "/v1/payments/orders/log-1")
        _ = try sandbox.api("GET", "/v1/payments/orders/log-2")
        _ = try sandbox.api("POST", "/v1/payments/confirm", body: ["paymentKey": "x", "orderId": "log-3", "amount": 100],
                            idempotencyKey: "log-key")
        let all = try sandbox.calls()
        XCTAssertEqual(all.count, 3)
        let seqs = all.compactMap { jsonInt($0["seq"]) }
        XCTAssertEqual(seqs, seqs.sorted())
        XCTAssertEqual(try sandbox.calls("limit=1").first?["orderId"] as? String, "log-3")
        XCTAssertEqual(try sandbox.calls("since=\(seqs[0])").count, 2)
        XCTAssertEqual(try sandbox.calls("method=post").count, 1)
        XCTAssertEqual(try sandbox.calls("path=/v1/payments/orders/*").count, 2)
        XCTAssertEqual(try sandbox.calls("path=/v1/payments/orders/log-2").count, 1)
        let confirm = try XCTUnwrap(try sandbox.calls("idempotencyKey=log-key").first)
        XCTAssertEqual((confirm["body"] as? [String: Any])?["orderId"] as? String, "log-3")
        XCTAssertEqual(jsonInt(confirm["status"]), 404)
        XCTAssertEqual(try sandbox.send("DELETE", "/sandbox/calls").status, 200)
        XCTAssertEqual(try sandbox.calls().count, 0)
    }

    func testClock() throws {
        let set = try sandbox.send("POST", "/sandbox/clock", body: ["now": "2030-01-31T09:00:00+09:00"]).object
        XCTAssertEqual((set["now"] as? String)?.prefix(16), "2030-01-31T09:00")
        let payment = try confirmed(amount: 1000)
        XCTAssertEqual((payment["approvedAt"] as? String)?.prefix(10), "2030-01-31")
        try sandbox.advanceClock(seconds: 86_400)
        XCTAssertEqual((try sandbox.send("GET", "/sandbox/clock").object["now"] as? String)?.prefix(10), "2030-02-01")
        XCTAssertEqual(try sandbox.send("POST", "/sandbox/clock", body: ["now": "yesterday"]).status, 400)
        // Times convert to Korean time (UTC+9, no daylight saving).
        for (given, shown) in [("2024-12-31T15:00:00Z", "2025-01-01T00:00:00+09:00"),
                               ("2028-02-29T23:59:59+09:00", "2028-02-29T23:59:59+09:00"),
                               ("2025-06-30T20:30:00-05:00", "2025-07-01T10:30:00+09:00")] {
            let now = try sandbox.send("POST", "/sandbox/clock", body: ["now": given]).object["now"] as? String
            XCTAssertEqual(now, shown, given)
        }
        let back = try sandbox.send("DELETE", "/sandbox/clock").object
        XCTAssertEqual(jsonInt(back["offsetSeconds"]), 0)
        _ = try sandbox.send("POST", "/sandbox/clock", body: ["offsetSeconds": 3600])
        try sandbox.reset()
        XCTAssertEqual(jsonInt(try sandbox.send("GET", "/sandbox/clock").object["offsetSeconds"]), 0, "reset clears the clock")
    }

    func testControlListingsFilter() throws {
        let customerKey = "cus_listing"
        let billingKey = try issueBillingKey(customerKey: customerKey)
        _ = try sandbox.api("POST", chargePath(billingKey), body: chargeBody(customerKey: customerKey, orderId: "list-1"))
        _ = try sandbox.api("POST", chargePath(billingKey), body: chargeBody(customerKey: customerKey, orderId: "list-2"),
                            headers: [("X-Unused", "1")])
        _ = try sandbox.authorizePayment(orderId: "list-normal", amount: 1000)
        try sandbox.addFault(["match": ["orderId": "list-3"], "action": "decline"])
        _ = try sandbox.api("POST", chargePath(billingKey), body: chargeBody(customerKey: customerKey, orderId: "list-3"))
        XCTAssertEqual(try sandbox.payments("customerKey=" + customerKey).count, 3)
        XCTAssertEqual(try sandbox.payments("type=BILLING").count, 3)
        XCTAssertEqual(try sandbox.payments("type=NORMAL").map { $0["orderId"] as? String }, ["list-normal"])
        XCTAssertEqual(try sandbox.payments("status=ABORTED").map { $0["orderId"] as? String }, ["list-3"])
        XCTAssertEqual(try sandbox.payments("status=IN_PROGRESS").count, 1)
        XCTAssertEqual(try sandbox.payments("billingKey=" + SandboxHTTP.encode(billingKey)).count, 3)
        XCTAssertEqual(try sandbox.send("GET", "/sandbox/charges?customerKey=" + customerKey).array.count, 2)
        let summary = try XCTUnwrap(try sandbox.charges(orderId: "list-1").first)
        XCTAssertEqual(summary["cardNumber"] as? String, "43301234****123*", "listings never show a full card number")
        XCTAssertEqual(jsonInt(summary["totalAmount"]), 9900)
    }

    func testControlAPIRefusesBadInput() throws {
        XCTAssertEqual(try sandbox.send("POST", "/sandbox/payments/authorize", body: "{not json").status, 400)
        XCTAssertEqual(try sandbox.send("POST", "/sandbox/payments/authorize", body: ["orderId": "no-amount-1"]).status, 400)
        XCTAssertEqual(try sandbox.send("POST", "/sandbox/payments/authorize",
                                        body: ["orderId": "zero-amount", "amount": 0]).status, 400)
        XCTAssertEqual(try sandbox.send("POST", "/sandbox/payments/authorize",
                                        body: ["orderId": "bad-card-1", "amount": 1000, "cardNumber": "1234"]).code,
                       "INVALID_CARD_NUMBER")
        let unknown = try sandbox.send("GET", "/sandbox/nope")
        XCTAssertEqual(unknown.status, 404)
        XCTAssertEqual(unknown.code, "NOT_FOUND")
    }

    func testResetForgetsEverything() throws {
        let payment = try confirmed(amount: 1000)
        try sandbox.addFault(["action": "latency", "latencyMs": 1, "count": -1])
        try sandbox.reset()
        XCTAssertEqual(try sandbox.send("GET", "/sandbox/payments").array.count, 0)
        XCTAssertEqual(try sandbox.send("GET", "/sandbox/faults").array.count, 0)
        XCTAssertEqual(try sandbox.calls().count, 0)
        assertTossAnswer(try sandbox.api("GET", "/v1/payments/" + (payment["paymentKey"] as? String ?? "")),
                         404, "NOT_FOUND_PAYMENT")
        let health = try sandbox.send("GET", "/sandbox/health").object
        XCTAssertEqual(health["status"] as? String, "ok")
        XCTAssertEqual(jsonBool(health["sandbox"]), true)
    }

    // MARK: Browser side: SDK, card form, receipt

    func testJSSDKIsJavaScriptDefiningTossPayments() throws {
        for path in ["/v2/standard", "/v2/standard.js"] {
            let response = try sandbox.send("GET", path)
            XCTAssertEqual(response.status, 200)
            XCTAssertEqual(response.headers["content-type"], "application/javascript; charset=utf-8")
            XCTAssertTrue(response.text.contains("window.TossPayments = TossPayments"), path)
            XCTAssertTrue(response.text.contains("requestPayment"), path)
            XCTAssertTrue(response.text.contains("requestBillingAuth"), path)
            XCTAssertTrue(response.text.contains(baseURL), "the default origin is the public URL")
        }
    }

    /// Runs the SDK in Node with a stub `window` (skipped without Node).
    func testJSSDKNavigatesToTheCardFormAndRejectsBadInput() throws {
        guard let node = ["/usr/bin/node", "/usr/local/bin/node", "/usr/bin/nodejs"]
            .first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw XCTSkip("node is not installed; the SDK is checked textually in testJSSDKIsJavaScriptDefiningTossPayments")
        }
        let script = try sandbox.send("GET", "/v2/standard").text
        let harness = """
        const src = require("fs").readFileSync(process.argv[2], "utf8");
        let navigated = null;
        const location = {};
        Object.defineProperty(location, "href", { get() { return "https://shop.example/checkout"; },
                                                  set(v) { navigated = v; } });
        const window = { location };
        const document = { currentScript: { src: process.argv[3] + "/v2/standard" } };
        new Function("window", "document", src)(window, document);
        const out = { type: typeof window.TossPayments, anonymous: window.TossPayments.ANONYMOUS };
        const tp = window.TossPayments("test_ck_sdkTest");
        const good = { method: "CARD", amount: { currency: "KRW", value: 9900 }, orderId: "order-sdk-1",
                       orderName: "베이직", successUrl: "/success", failUrl: "https://shop.example/fail" };
        tp.payment({ customerKey: "cus_sdk" }).requestPayment(good);
        out.payment = navigated; navigated = null;
        tp.payment({ customerKey: "cus_sdk" }).requestBillingAuth({ method: "CARD", successUrl: "/billing/ok",
                                                                   failUrl: "/billing/fail" });
        out.billing = navigated; navigated = null;
        const codes = {};
        const bad = {
          orderId: tp.payment({ customerKey: "cus_sdk" }).requestPayment({ ...good, orderId: "bad" }),
          amount: tp.payment({ customerKey: "cus_sdk" }).requestPayment({ ...good, amount: { currency: "KRW", value: 0 } }),
          customerKey: tp.payment({ customerKey: "x" }).requestPayment(good),
          method: tp.payment({ customerKey: "cus_sdk" }).requestPayment({ ...good, method: "카드" }),
          secretKey: window.TossPayments("test_sk_secret").payment({ customerKey: "cus_sdk" }).requestPayment(good),
          clientKey: window.TossPayments("live_ck_real").payment({ customerKey: "cus_sdk" }).requestPayment(good),
          anonymousBilling: tp.payment({ customerKey: window.TossPayments.ANONYMOUS })
                              .requestBillingAuth({ method: "CARD", successUrl: "/a", failUrl: "/b" }),
        };
        Promise.all(Object.entries(bad).map(([k, p]) => p.then(() => { codes[k] = "resolved"; },
                                                               e => { codes[k] = e.code; })))
          .then(() => { out.codes = codes; out.navigatedOnError = navigated; console.log(JSON.stringify(out)); });
        """
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("toss-sdk-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let harnessURL = directory.appendingPathComponent("harness.js")
        let scriptURL = directory.appendingPathComponent("standard.js")
        try harness.write(to: harnessURL, atomically: true, encoding: .utf8)
        try script.write(to: scriptURL, atomically: true, encoding: .utf8)

        let process = Process()
        let output = Pipe()
        process.executableURL = URL(fileURLWithPath: node)
        process.arguments = [harnessURL.path, scriptURL.path, "http://sandbox.test:9999"]
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        XCTAssertEqual(process.terminationStatus, 0, text)
        let result = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any], text)
        XCTAssertEqual(result["type"] as? String, "function")
        XCTAssertEqual(result["anonymous"] as? String, "@@ANONYMOUS")

        let payment = try XCTUnwrap(URLComponents(string: result["payment"] as? String ?? ""), text)
        XCTAssertEqual(payment.host, "sandbox.test", "the origin comes from the script's own src")
        XCTAssertEqual(payment.path, "/sandbox/payment")
        let query = Dictionary(payment.queryItems?.map { ($0.name, $0.value ?? "") } ?? [], uniquingKeysWith: { a, _ in a })
        XCTAssertEqual(query["clientKey"], "test_ck_sdkTest")
        XCTAssertEqual(query["customerKey"], "cus_sdk")
        XCTAssertEqual(query["amount"], "9900")
        XCTAssertEqual(query["orderId"], "order-sdk-1")
        XCTAssertEqual(query["orderName"], "베이직")
        XCTAssertEqual(query["successUrl"], "https://shop.example/success", "relative URLs are made absolute")
        let billing = try XCTUnwrap(URLComponents(string: result["billing"] as? String ?? ""), text)
        XCTAssertEqual(billing.path, "/sandbox/billing-auth")

        let codes = try XCTUnwrap(result["codes"] as? [String: String], text)
        XCTAssertEqual(codes["orderId"], "INVALID_ORDER_ID")
        XCTAssertEqual(codes["amount"], "INVALID_AMOUNT_VALUE")
        XCTAssertEqual(codes["customerKey"], "INVALID_CUSTOMER_KEY")
        XCTAssertEqual(codes["method"], "V1_METHOD_NOT_SUPPORTED")
        XCTAssertEqual(codes["secretKey"], "INSECURE_KEY_USAGE")
        XCTAssertEqual(codes["clientKey"], "INVALID_CLIENT_KEY")
        XCTAssertEqual(codes["anonymousBilling"], "INVALID_CUSTOMER_KEY")
        XCTAssertTrue(result["navigatedOnError"] is NSNull, "bad input never navigates")
    }

    private func formQuery(_ pairs: [(String, String)]) -> String {
        pairs.map { "\($0.0)=\(SandboxHTTP.encode($0.1))" }.joined(separator: "&")
    }

    private func paymentFormFields(orderId: String, successUrl: String = "https://shop.example/pay/success",
                                   clientKey: String = "test_ck_formTest") -> [(String, String)] {
        [("clientKey", clientKey), ("customerKey", "cus_form"), ("method", "CARD"), ("amount", "9900"),
         ("orderId", orderId), ("orderName", "베이직 <월간>"), ("successUrl", successUrl),
         ("failUrl", "https://shop.example/pay/fail")]
    }

    func testCardFormPageSaysSandbox() throws {
        let page = try sandbox.send("GET", "/sandbox/payment?" + formQuery(paymentFormFields(orderId: "form-order-1")))
        XCTAssertEqual(page.status, 200, page.text)
        XCTAssertTrue(page.headers["content-type"]?.hasPrefix("text/html") ?? false)
        XCTAssertTrue(page.text.contains("SANDBOX"))
        XCTAssertTrue(page.text.contains("id=\"card-number\""))
        XCTAssertTrue(page.text.contains("id=\"pay-button\""))
        XCTAssertTrue(page.text.contains("id=\"cancel-button\""))
        XCTAssertTrue(page.text.contains("form-order-1"))
        XCTAssertTrue(page.text.contains("베이직 &lt;월간&gt;"), "the order name is escaped")
        XCTAssertFalse(page.text.contains("베이직 <월간>"))

        let billingPage = try sandbox.send("GET", "/sandbox/billing-auth?" + formQuery([
            ("clientKey", "test_ck_formTest"), ("customerKey", "cus_form"), ("method", "CARD"),
            ("successUrl", "https://shop.example/b/ok"), ("failUrl", "https://shop.example/b/fail")]))
        XCTAssertEqual(billingPage.status, 200, billingPage.text)
        XCTAssertTrue(billingPage.text.contains("SANDBOX"))
        XCTAssertTrue(billingPage.text.contains("카드 등록"))

        let badKey = try sandbox.send("GET", "/sandbox/payment?" + formQuery(paymentFormFields(orderId: "form-order-1",
                                                                                             clientKey: "live_ck_x")))
        XCTAssertEqual(badKey.status, 400)
        XCTAssertTrue(badKey.text.contains("SANDBOX"))
        XCTAssertTrue(badKey.text.contains("INVALID_CLIENT_KEY"))
        let index = try sandbox.send("GET", "/")
        XCTAssertTrue(index.text.contains("SANDBOX"))
    }

    func testCardFormSubmitRedirectsLikeToss() throws {
        let form = [("Content-Type", "application/x-www-form-urlencoded")]
        func submit(_ path: String, _ fields: [(String, String)]) throws -> URLComponents {
            let response = try sandbox.send("POST", path, headers: form, body: formQuery(fields))
            XCTAssertEqual(response.status, 303, response.text)
            return try XCTUnwrap(URLComponents(string: response.headers["location"] ?? ""), response.text)
        }
        func query(_ url: URLComponents) -> [String: String] {
            Dictionary(url.queryItems?.map { ($0.name, $0.value ?? "") } ?? [], uniquingKeysWith: { a, _ in a })
        }

        let success = try submit("/sandbox/payment", paymentFormFields(orderId: "form-pay-1",
                                                                       successUrl: "https://shop.example/pay/success?plan=basic")
                                  + [("cardNumber", "4330 1234 1234 1234")])
        XCTAssertEqual(success.path, "/pay/success")
        let params = query(success)
        XCTAssertEqual(params["plan"], "basic", "successUrl's own query is kept")
        XCTAssertEqual(params["orderId"], "form-pay-1")
        XCTAssertEqual(params["amount"], "9900")
        let paymentKey = try XCTUnwrap(params["paymentKey"])
        let confirmed = try sandbox.api("POST", "/v1/payments/confirm",
                                        body: ["paymentKey": paymentKey, "orderId": "form-pay-1", "amount": params["amount"]!])
        XCTAssertEqual(confirmed.object["status"] as? String, "DONE", confirmed.text)

        let refused = try submit("/sandbox/payment", paymentFormFields(orderId: "form-pay-2")
                                  + [("cardNumber", "4000000000000002")])
        XCTAssertEqual(refused.path, "/pay/fail")
        XCTAssertEqual(query(refused)["code"], "REJECT_CARD_COMPANY")
        XCTAssertEqual(query(refused)["orderId"], "form-pay-2")

        XCTAssertEqual(query(refused)["message"]?.isEmpty, false)
        let canceled = try submit("/sandbox/payment", paymentFormFields(orderId: "form-pay-3")
                                   + [("cardNumber", "4330123412341234"), ("action", "cancel")])
        XCTAssertEqual(query(canceled)["code"], "PAY_PROCESS_CANCELED")
        XCTAssertEqual(query(canceled)["message"], "사용자에 의해 결제가 취소되었습니다")
        XCTAssertNil(query(canceled)["orderId"], "no orderId on a buyer cancel")

        let billing = try submit("/sandbox/billing-auth", [
            ("clientKey", "test_ck_formTest"), ("customerKey", "cus_form_billing"), ("method", "CARD"),
            ("successUrl", "https://shop.example/b/ok"), ("failUrl", "https://shop.example/b/fail"),
            ("cardNumber", "5111222233334444")])
        XCTAssertEqual(billing.path, "/b/ok")
        XCTAssertEqual(query(billing)["customerKey"], "cus_form_billing")
        let authKey = try XCTUnwrap(query(billing)["authKey"])
        let issued = try sandbox.api("POST", "/v1/billing/authorizations/issue",
                                     body: ["authKey": authKey, "customerKey": "cus_form_billing"])
        XCTAssertEqual(issued.object["cardCompany"] as? String, "신한", issued.text)

        let badNumber = try sandbox.send("POST", "/sandbox/payment", headers: form,
                                         body: formQuery(paymentFormFields(orderId: "form-pay-4") + [("cardNumber", "1234")]))
        XCTAssertEqual(badNumber.status, 400)
        XCTAssertTrue(badNumber.text.contains("SANDBOX"))
    }

    func testReceiptPageSaysSandbox() throws {
        let payment = try confirmed(amount: 15_000)
        let receiptURL = try XCTUnwrap((payment["receipt"] as? [String: Any])?["url"] as? String)
        XCTAssertTrue(receiptURL.hasPrefix(baseURL))
        let receipt = try sandbox.send("GET", String(receiptURL.dropFirst(baseURL.count)))
        XCTAssertEqual(receipt.status, 200)
        XCTAssertTrue(receipt.headers["content-type"]?.hasPrefix("text/html") ?? false)
        XCTAssertTrue(receipt.text.contains("SANDBOX"))
        XCTAssertTrue(receipt.text.contains("결제 완료"))
        XCTAssertTrue(receipt.text.contains("15,000"), "shows the amount")
        let checkout = try sandbox.send("GET", "/v1/payments/\(payment["paymentKey"] as? String ?? "")/checkout")
        XCTAssertEqual(checkout.status, 200)
        XCTAssertTrue(checkout.text.contains("SANDBOX"))
        let missing = try sandbox.send("GET", "/receipt/tgen_nothing")
        XCTAssertEqual(missing.status, 404)
        XCTAssertTrue(missing.text.contains("SANDBOX"))
    }
}

/// The `toss-sandbox` executable itself: the listening line, options and exit codes.
final class SandboxProcessTests: XCTestCase {
    private func executable() throws -> URL {
        guard let url = SandboxProcess.executableURL() else {
            throw XCTSkip("toss-sandbox is not built next to the test bundle; run swift build --build-tests first")
        }
        return url
    }

    func testListensOnAPickedPortAndExitsZeroOnSIGTERM() throws {
        let sandbox = try SandboxProcess(executable: try executable())
        XCTAssertTrue(sandbox.listeningLine.hasPrefix("toss-sandbox listening on http://127.0.0.1:"), sandbox.listeningLine)
        let port = Int(sandbox.baseURL.split(separator: ":").last ?? "") ?? 0
        XCTAssertGreaterThan(port, 0)
        XCTAssertNotEqual(port, 9090)
        let http = SandboxHTTP(baseURL: sandbox.baseURL)
        XCTAssertEqual(try http.send("GET", "/sandbox/health").object["status"] as? String, "ok")
        XCTAssertEqual(try http.api("GET", "/v1/payments/orders/order-0001").code, "NOT_FOUND_PAYMENT")
        XCTAssertEqual(sandbox.stop(), 0)
    }

    func testSecretKeyAndPublicURLOptions() throws {
        let sandbox = try SandboxProcess(executable: try executable(),
                                         arguments: ["--secret-key", "test_sk_onlyMine", "--public-url", "https://pay.example.test/"])
        defer { sandbox.stop() }
        let http = SandboxHTTP(baseURL: sandbox.baseURL)
        XCTAssertEqual(try http.api("GET", "/v1/payments/orders/order-0001", secretKey: "test_sk_other").status, 401)
        let paymentKey = try http.authorizePayment(orderId: "public-url-1", amount: 1000)
        XCTAssertEqual(try http.api("POST", "/v1/payments/confirm", secretKey: "test_sk_onlyMine").code,
                       "INVALID_REQUEST", "an empty confirm body is refused")
        let confirmed = try http.api("POST", "/v1/payments/confirm",
                                     body: ["paymentKey": paymentKey, "orderId": "public-url-1", "amount": 1000],
                                     secretKey: "test_sk_onlyMine")
        XCTAssertEqual((confirmed.object["receipt"] as? [String: Any])?["url"] as? String,
                       "https://pay.example.test/receipt/" + paymentKey)
        XCTAssertTrue(try http.send("GET", "/v2/standard").text.contains("https://pay.example.test"))
    }

    func testExitsZeroOnSIGINT() throws {
        let sandbox = try SandboxProcess(executable: try executable())
        kill(sandbox.process.processIdentifier, SIGINT)
        sandbox.process.waitUntilExit()
        XCTAssertEqual(sandbox.process.terminationReason, .exit)
        XCTAssertEqual(sandbox.process.terminationStatus, 0)
    }

    func testListensOnIPv6Loopback() throws {
        let sandbox: SandboxProcess
        do {
            sandbox = try SandboxProcess(executable: try executable(), arguments: ["--listen", "[::1]:0"])
        } catch let failure as SandboxProcess.Failure {
            throw XCTSkip("no IPv6 loopback here: \(failure)")
        }
        defer { sandbox.stop() }
        XCTAssertTrue(sandbox.baseURL.hasPrefix("http://[::1]:"), sandbox.listeningLine)
        let http = SandboxHTTP(baseURL: sandbox.baseURL)
        XCTAssertEqual(try http.send("GET", "/sandbox/health").status, 200)
        let paymentKey = try http.authorizePayment(orderId: "ipv6-order", amount: 1000)
        let payment = try http.api("POST", "/v1/payments/confirm",
                                   body: ["paymentKey": paymentKey, "orderId": "ipv6-order", "amount": 1000]).object
        XCTAssertEqual((payment["receipt"] as? [String: Any])?["url"] as? String,
                       sandbox.baseURL + "/receipt/" + paymentKey)
    }

    func testLatencyOption() throws {
        let sandbox = try SandboxProcess(executable: try executable(), arguments: ["--latency-ms", "300"])
        defer { sandbox.stop() }
        let http = SandboxHTTP(baseURL: sandbox.baseURL)
        let started = Date()
        _ = try http.api("GET", "/v1/payments/orders/order-0001")
        XCTAssertGreaterThan(Date().timeIntervalSince(started), 0.28)
    }

    func testBadArgumentsExitTwoWithOneLineOnStderr() throws {
        let url = try executable()
        for arguments in [["--listen", "nonsense"], ["--bogus"], ["--latency-ms", "-5"], ["--secret-key", "a:b"],
                          ["--public-url", "ftp://x"], ["--listen"]] {
            let (status, stderr) = try SandboxProcess.runToExit(executable: url, arguments: arguments)
            XCTAssertEqual(status, 2, "\(arguments): \(stderr)")
            XCTAssertEqual(stderr.split(separator: "\n").count, 1, "\(arguments): \(stderr)")
            XCTAssertTrue(stderr.hasPrefix("toss-sandbox: "), stderr)
        }
    }

    func testRefusesToStartInProduction() throws {
        let (status, stderr) = try SandboxProcess.runToExit(executable: try executable(), arguments: ["--listen", "127.0.0.1:0"],
                                                            environment: ["GUDOK_ENV": "production"])
        XCTAssertEqual(status, 2, stderr)
        XCTAssertTrue(stderr.contains("GUDOK_ENV=production"), stderr)
    }

    func testCannotListenExitsOne() throws {
        let busy = try InProcessSandbox.shared()
        let (status, stderr) = try SandboxProcess.runToExit(executable: try executable(),
                                                            arguments: ["--listen", "127.0.0.1:\(busy.port)"])
        XCTAssertEqual(status, 1, stderr)
    }
}

final class LockedBox<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value?
    var value: Value? {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
    func mutate(_ change: (inout Value?) -> Void) {
        lock.withLock { change(&stored) }
    }
}
