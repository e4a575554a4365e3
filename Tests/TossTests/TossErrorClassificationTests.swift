import XCTest
@testable import Toss

final class TossErrorClassificationTests: XCTestCase {
    private func assertKind(_ expected: TossError.Kind, _ cases: [(String, Int?)],
                            file: StaticString = #filePath, line: UInt = #line) {
        for (code, status) in cases {
            XCTAssertEqual(TossError.Kind.classify(code: code, httpStatus: status), expected,
                           "\(code) with HTTP \(status.map(String.init) ?? "nil")", file: file, line: line)
        }
    }

    func testCardDeclinesAndFinalRefusalsAreDeclined() {
        assertKind(.declined, [
            ("REJECT_CARD_PAYMENT", 403), ("REJECT_CARD_COMPANY", 403), ("REJECT_ACCOUNT_PAYMENT", 403),
            ("INVALID_CARD_NUMBER", 400), ("INVALID_STOPPED_CARD", 400), ("INVALID_CARD_EXPIRATION", 400),
            ("INVALID_REJECT_CARD", 400), ("INVALID_CARD_LOST_OR_STOLEN", 400), ("INVALID_CARD_INSTALLMENT_PLAN", 400),
            ("EXCEED_MAX_DAILY_PAYMENT_COUNT", 400), ("EXCEED_MAX_PAYMENT_AMOUNT", 400), ("EXCEED_MAX_AUTH_COUNT", 403),
            ("EXCEED_MAX_REFUND_DUE", 403), ("NOT_MATCHES_CUSTOMER_KEY", 400), ("INVALID_BILL_KEY_REQUEST", 400),
            ("BELOW_MINIMUM_AMOUNT", 400), ("FDS_ERROR", 403), ("NOT_AVAILABLE_PAYMENT", 400),
            ("NOT_SUPPORTED_METHOD", 400), ("NOT_SUPPORTED_INSTALLMENT_PLAN_CARD_OR_MERCHANT", 400),
            ("PAY_PROCESS_CANCELED", 400), ("PAY_PROCESS_ABORTED", 400), ("NOT_CANCELABLE_AMOUNT", 403),
            ("NOT_CANCELABLE_PAYMENT", 403), ("NOT_ALLOWED_PARTIAL_REFUND", 403), ("ALREADY_REFUND_PAYMENT", 400),
            ("NOT_MATCHES_REFUNDABLE_AMOUNT", 400), ("NOT_FOUND_PAYMENT_SESSION", 404), ("UNAPPROVED_ORDER_ID", 400),
            ("FORBIDDEN_REQUEST", 403), ("REJECT_CARD_COMPANY", nil),
        ])
    }

    func testServerTroubleAndThrottlingAreTransient() {
        assertKind(.transient, [
            ("PROVIDER_ERROR", 400), ("COMMON_ERROR", 500), ("CARD_PROCESSING_ERROR", 400),
            ("FAILED_INTERNAL_SYSTEM_PROCESSING", 500), ("FAILED_PAYMENT_INTERNAL_SYSTEM_PROCESSING", 500),
            ("UNKNOWN_PAYMENT_ERROR", 500), ("FORBIDDEN_CONSECUTIVE_REQUEST", 403),
            ("IDEMPOTENT_REQUEST_PROCESSING", 409), ("FAILED_REFUND_PROCESS", 500), ("HTTP_502", 502),
            ("HTTP_503", 503), ("SOMETHING_NEW", 504), ("TOO_MANY_REQUESTS", 429), ("PG_UNREACHABLE", nil),
        ])
    }

    func testOutcomeUnknownIsAmbiguous() {
        assertKind(.ambiguous, [("PG_TIMEOUT", nil), ("PG_CONNECTION_LOST", nil), ("PG_INVALID_RESPONSE", 200)])
    }

    func testAlreadyProcessed() {
        assertKind(.alreadyProcessed, [("ALREADY_PROCESSED_PAYMENT", 400), ("DUPLICATED_ORDER_ID", 400)])
    }

    func testKeyProblemsAreConfiguration() {
        assertKind(.configuration, [
            ("UNAUTHORIZED_KEY", 401), ("INVALID_API_KEY", 400), ("INCORRECT_BASIC_AUTH_FORMAT", 403),
            ("INVALID_CLIENT_KEY", 400), ("HTTP_401", 401), ("PG_CLIENT_ERROR", nil),
        ])
    }

    func testNotFound() {
        assertKind(.notFound, [
            ("NOT_FOUND_PAYMENT", 404), ("NOT_FOUND", 404), ("NOT_FOUND_BILLING", 404), ("BILLING_KEY_NOT_FOUND", 400),
        ])
    }

    func testOtherClientErrorsAreInvalidRequests() {
        assertKind(.invalidRequest, [
            ("INVALID_REQUEST", 400), ("INVALID_IDEMPOTENCY_KEY", 400), ("INVALID_REFUND_ACCOUNT_INFO", 400),
            ("HTTP_404", 404), ("SOMETHING_NEW", 400), ("SOMETHING_NEW", nil), ("CONFLICT", 409),
        ])
    }

    func testKnownCodeWinsOverStatus() {
        XCTAssertEqual(TossError.Kind.classify(code: "REJECT_CARD_COMPANY", httpStatus: 500), .declined)
        XCTAssertEqual(TossError.Kind.classify(code: "ALREADY_PROCESSED_PAYMENT", httpStatus: 500), .alreadyProcessed)
        XCTAssertEqual(TossError.Kind.classify(code: "NOT_FOUND_PAYMENT", httpStatus: 503), .notFound)
    }

    func testTransportFailuresMapToKindsAndCodes() {
        let cases: [(HTTPClientError, TossError.Kind, String)] = [
            (.couldNotConnect("Connection refused"), .transient, "PG_UNREACHABLE"),
            (.timedOut(afterSending: false), .transient, "PG_UNREACHABLE"),
            (.connectionLost(afterSending: false), .transient, "PG_UNREACHABLE"),
            (.timedOut(afterSending: true), .ambiguous, "PG_TIMEOUT"),
            (.connectionLost(afterSending: true), .ambiguous, "PG_CONNECTION_LOST"),
            (.other("SSL certificate problem"), .configuration, "PG_CLIENT_ERROR"),
        ]
        for (transport, kind, code) in cases {
            let error = TossError(transport: transport, operation: "billing charge", timeout: 60)
            XCTAssertEqual(error.kind, kind, "\(transport)")
            XCTAssertEqual(error.code, code, "\(transport)")
            XCTAssertNil(error.httpStatus)
            XCTAssertTrue(error.message.hasPrefix("billing charge: "), error.message)
        }
    }

    func testErrorBodiesBecomeTossErrors() {
        let toss = TossError(status: 403, body: Array(#"{"code":"REJECT_CARD_COMPANY","message":"결제 승인이 거절되었습니다."}"#.utf8),
                             operation: "billing charge")
        XCTAssertEqual(toss, TossError(kind: .declined, code: "REJECT_CARD_COMPANY", message: "결제 승인이 거절되었습니다.",
                                       httpStatus: 403))

        let nested = TossError(status: 400, body: Array(#"{"version":"2022-11-16","traceId":"t","error":{"code":"INVALID_REQUEST","message":"잘못된 요청입니다."}}"#.utf8),
                               operation: "x")
        XCTAssertEqual(nested.code, "INVALID_REQUEST")
        XCTAssertEqual(nested.kind, .invalidRequest)

        let html = TossError(status: 502, body: Array("<html>Bad Gateway for /v1/billing/secret-key</html>".utf8),
                             operation: "billing charge")
        XCTAssertEqual(html.code, "HTTP_502")
        XCTAssertEqual(html.kind, .transient)
        XCTAssertEqual(html.httpStatus, 502)
        XCTAssertFalse(html.message.contains("secret-key"), "a non-JSON body must not be echoed: \(html.message)")

        let empty = TossError(status: 404, body: [], operation: "order lookup")
        XCTAssertEqual(empty.code, "HTTP_404")
        XCTAssertEqual(empty.kind, .invalidRequest)
    }
}
