import JSON
import XCTest
@testable import Toss

final class TossDecodingTests: XCTestCase {
    func testBillingChargeDoneSampleDecodes() throws {
        let payment = try TossPayment(json: Array(Fixtures.billingChargeDone.utf8))
        XCTAssertEqual(payment, TossPayment(
            paymentKey: "5EnNZRJGvaBX7zk2yd8ydw26XvwXkLrx9POLqKQjmAw4b0e1", orderId: "MC4wODU4ODQwMzg4NDk0",
            orderName: "토스 프라임 구독", status: "DONE", type: "BILLING", method: "카드", totalAmount: 4900,
            balanceAmount: 4900, requestedAt: "2022-06-08T15:40:09+09:00", approvedAt: "2022-06-08T15:40:49+09:00",
            lastTransactionKey: "9C62B18EEF0DE3EB7F4422EB6D14BC6E",
            card: TossCard(issuerCode: "61", number: "43301234****123*", cardType: "신용", ownerType: "개인",
                           approveNo: "00000000", company: "현대"),
            receiptURL: "https://dashboard.tosspayments.com/sales-slip?transactionId=KAgfjGxIqVVXDxOiSW1wUnRWBS1dszn3DKcuhpm7mQlKP0iOdgPCKmwEdYglIHX&ref=PX",
            cancels: [], failure: nil, vat: 455, suppliedAmount: 4455))
    }

    func testAmountsMayBeNumericStrings() throws {
        let payment = try TossPayment(json: Array(Fixtures.partiallyCanceled.utf8))
        XCTAssertEqual(payment.totalAmount, 99000)
        XCTAssertEqual(payment.balanceAmount, 89000)
        XCTAssertEqual(payment.status, "PARTIAL_CANCELED")
        XCTAssertEqual(payment.cancels, [TossCancel(cancelAmount: 10000, cancelReason: "고객이 취소를 원함",
                                                    canceledAt: "2022-01-01T11:32:04+09:00", transactionKey: "tx2",
                                                    cancelStatus: "DONE")])
    }

    func testIntegralFloatsAreAmountsButFractionsAreNot() throws {
        let integral = try TossPayment(json: Array(#"{"paymentKey":"p","orderId":"o","status":"DONE","totalAmount":4900.0}"#.utf8))
        XCTAssertEqual(integral.totalAmount, 4900)
        XCTAssertEqual(integral.balanceAmount, 4900, "an absent balanceAmount is the total less the cancels")
        XCTAssertThrowsError(try TossPayment(json: Array(#"{"paymentKey":"p","orderId":"o","status":"DONE","totalAmount":"49.5"}"#.utf8)))
    }

    func testFailureOfAnAbortedPaymentIsRead() throws {
        let payment = try TossPayment(json: Array(Fixtures.aborted.utf8))
        XCTAssertEqual(payment.status, "ABORTED")
        XCTAssertNil(payment.approvedAt)
        XCTAssertEqual(payment.failure, TossFailure(code: "COMMON_ERROR", message: "일시적인 오류가 발생했습니다. 잠시 후 다시 시도해주세요."))
    }

    func testMissingRequiredFieldsOrNonJSONAreAmbiguousErrors() {
        for body in [#"{"orderId":"o","status":"DONE","totalAmount":1}"#, #"{"paymentKey":"p","orderId":"o","totalAmount":1}"#,
                     #"{"paymentKey":"p","orderId":"o","status":"DONE"}"#, "[]", "", "<html></html>"] {
            XCTAssertThrowsError(try TossPayment(json: Array(body.utf8)), body) { error in
                XCTAssertEqual((error as? TossError)?.kind, .ambiguous, body)
                XCTAssertEqual((error as? TossError)?.code, "PG_INVALID_RESPONSE", body)
            }
        }
    }

    func testWebhookDataDecodesFromAnObject() throws {
        let object = try XCTUnwrap(try JSON.parse(Array(Fixtures.payment().utf8)).objectValue)
        let payment = try TossPayment(jsonObject: object)
        XCTAssertEqual(payment.orderId, "order-0001")
        XCTAssertEqual(payment.totalAmount, 9900)
    }

    func testBillingWithBothShapesPrefersTheCardObject() throws {
        let billing = try TossBilling(json: Array(Fixtures.billingIssued.utf8))
        XCTAssertEqual(billing.billingKey, "Z_t5vOvQxrj4499PeiJcjen28-V2RyqgYTwN44Rdzk0=")
        XCTAssertEqual(billing.customerKey, "cus_8f3e2c1a-77aa")
        XCTAssertEqual(billing.method, "카드")
        XCTAssertEqual(billing.authenticatedAt, "2021-01-01T10:00:00+09:00")
        XCTAssertEqual(billing.card, TossCard(issuerCode: "61", number: "43301234****123*", cardType: "신용",
                                              ownerType: "개인", company: "현대"))
    }

    func testBillingOldShape() throws {
        let billing = try TossBilling(json: Array(Fixtures.billingIssuedOldShape.utf8))
        XCTAssertEqual(billing.billingKey, "old+key/with=")
        XCTAssertEqual(billing.card, TossCard(issuerCode: nil, number: "53275012****456*", company: "신한"))
    }

    func testBillingNewShapeIgnoresUnknownFields() throws {
        let billing = try TossBilling(json: Array(Fixtures.billingIssuedNewShape.utf8))
        XCTAssertEqual(billing.customerKey, "cus_new")
        XCTAssertEqual(billing.card?.issuerCode, "W1")
        XCTAssertEqual(billing.card?.company, "우리")
        XCTAssertEqual(billing.card?.cardType, "체크")
    }

    func testBillingWithoutKeyIsUnreadable() {
        XCTAssertThrowsError(try TossBilling(json: Array(#"{"customerKey":"c"}"#.utf8)))
        XCTAssertThrowsError(try TossBilling(json: Array(#"{"billingKey":"","customerKey":"c"}"#.utf8)))
    }

    func testBillingDescriptionsNeverShowTheKey() throws {
        let billing = try TossBilling(json: Array(Fixtures.billingIssued.utf8))
        var dumped = ""
        dump(billing, to: &dumped)
        for text in [billing.description, billing.debugDescription, "\(billing)", String(reflecting: billing),
                     "\([billing])", dumped] {
            XCTAssertFalse(text.contains(Fixtures.billingKey), text)
            XCTAssertFalse(text.contains("Z_t5v"), text)
        }
        XCTAssertTrue(billing.description.contains("cus_8f3e2c1a-77aa"), billing.description)
        XCTAssertTrue(billing.description.contains("현대"), billing.description)
    }

    func testCardCompanyNames() {
        let expected = ["61": "현대", "41": "신한", "11": "KB국민", "51": "삼성", "71": "롯데", "31": "BC", "21": "하나",
                        "33": "우리", "W1": "우리", "91": "NH농협", "15": "카카오뱅크", "24": "토스뱅크", "3K": "기업비씨",
                        "3A": "케이뱅크", "4V": "비자"]
        for (code, name) in expected {
            XCTAssertEqual(TossCard.companyName(issuerCode: code), name, code)
        }
        XCTAssertNil(TossCard.companyName(issuerCode: "ZZ"))
        XCTAssertEqual(TossCard(issuerCode: "w1").company, "우리")
        XCTAssertEqual(TossCard(issuerCode: "61", company: "Hyundai").company, "Hyundai", "an explicit name wins")
    }

    func testConfigurationDescriptionHidesTheSecretKey() {
        let configuration = TossConfiguration(baseURL: "https://api.tosspayments.com/v1",
                                              secretKey: "test_sk_zXLkKEypNArWmo50nX3lmeaxYG5R")
        var dumped = ""
        dump(configuration, to: &dumped)
        for text in ["\(configuration)", String(reflecting: configuration), dumped] {
            XCTAssertFalse(text.contains("zXLkKEypNArWmo50nX3lmeaxYG5R"), text)
        }
        XCTAssertTrue("\(configuration)".contains("test_sk_"))
    }
}
