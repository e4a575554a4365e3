/// Response bodies as Toss sends them (toss-api.md §4), plus variations.
enum Fixtures {
    static let billingKey = "Z_t5vOvQxrj4499PeiJcjen28-V2RyqgYTwN44Rdzk0="
    static let keyWithReservedCharacters = "ab+cd/ef=gh"

    /// The billing charge `DONE` sample from the Toss billing guide, verbatim but for the elided keys.
    static let billingChargeDone = """
    {"mId":"tosspayments","version":"2022-11-16","paymentKey":"5EnNZRJGvaBX7zk2yd8ydw26XvwXkLrx9POLqKQjmAw4b0e1","status":"DONE","lastTransactionKey":"9C62B18EEF0DE3EB7F4422EB6D14BC6E","orderId":"MC4wODU4ODQwMzg4NDk0","orderName":"토스 프라임 구독","requestedAt":"2022-06-08T15:40:09+09:00","approvedAt":"2022-06-08T15:40:49+09:00","useEscrow":false,"cultureExpense":false,"card":{"issuerCode":"61","acquirerCode":"31","number":"43301234****123*","installmentPlanMonths":0,"isInterestFree":false,"interestPayer":null,"approveNo":"00000000","useCardPoint":false,"cardType":"신용","ownerType":"개인","acquireStatus":"READY","amount":4900},"virtualAccount":null,"transfer":null,"mobilePhone":null,"giftCertificate":null,"cashReceipt":null,"cashReceipts":null,"discount":null,"cancels":null,"secret":null,"type":"BILLING","easyPay":null,"country":"KR","failure":null,"isPartialCancelable":true,"receipt":{"url":"https://dashboard.tosspayments.com/sales-slip?transactionId=KAgfjGxIqVVXDxOiSW1wUnRWBS1dszn3DKcuhpm7mQlKP0iOdgPCKmwEdYglIHX&ref=PX"},"checkout":{"url":"https://api.tosspayments.com/v1/payments/5EnNZRJGvaBX7zk2yd8ydw26XvwXkLrx9POLqKQjmAw4b0e1/checkout"},"currency":"KRW","totalAmount":4900,"balanceAmount":4900,"suppliedAmount":4455,"vat":455,"taxFreeAmount":0,"metadata":null,"taxExemptionAmount":0,"method":"카드"}
    """

    /// The Billing object as the guide shows it: the new `card{}` and the old top-level fields together.
    static let billingIssued = """
    {"mId":"tosspayments","customerKey":"cus_8f3e2c1a-77aa","authenticatedAt":"2021-01-01T10:00:00+09:00","method":"카드",
     "billingKey":"Z_t5vOvQxrj4499PeiJcjen28-V2RyqgYTwN44Rdzk0=",
     "card":{"issuerCode":"61","acquirerCode":"31","number":"43301234****123*","cardType":"신용","ownerType":"개인"},
     "cardCompany":"현대","cardNumber":"43301234****123*"}
    """

    /// API versions before 2024-06-01: no `card{}` object.
    static let billingIssuedOldShape = """
    {"mId":"tosspayments","customerKey":"cus_old","authenticatedAt":"2021-01-01T10:00:00+09:00","method":"카드",
     "billingKey":"old+key/with=","cardCompany":"신한","cardNumber":"53275012****456*"}
    """

    /// API version 2024-06-01 and later: only `card{}`.
    static let billingIssuedNewShape = """
    {"mId":"tosspayments","customerKey":"cus_new","authenticatedAt":"2024-07-01T10:00:00+09:00","method":"카드",
     "billingKey":"new_key","card":{"issuerCode":"W1","acquirerCode":"W1","number":"12345678****000*","cardType":"체크","ownerType":"개인"},
     "transfers":null,"someFieldFromTheFuture":{"nested":[1,2,3]}}
    """

    static func payment(paymentKey: String = "pay_1", orderId: String = "order-0001", status: String = "DONE",
                        amount: Int = 9900) -> String {
        """
        {"paymentKey":"\(paymentKey)","orderId":"\(orderId)","orderName":"월간 플랜","status":"\(status)",
         "type":"NORMAL","method":"카드","totalAmount":\(amount),"balanceAmount":\(amount),"cancels":null}
        """
    }

    static let partiallyCanceled = """
    {"paymentKey":"pay_2","orderId":"order-0002","orderName":"연간 플랜","status":"PARTIAL_CANCELED","method":"카드",
     "totalAmount":"99000","balanceAmount":"89000","lastTransactionKey":"tx2",
     "cancels":[{"cancelReason":"고객이 취소를 원함","canceledAt":"2022-01-01T11:32:04+09:00","cancelAmount":"10000",
                 "taxFreeAmount":0,"taxExemptionAmount":0,"refundableAmount":89000,"transactionKey":"tx2",
                 "receiptKey":null,"cancelStatus":"DONE","cancelRequestId":null}]}
    """

    static let aborted = """
    {"paymentKey":"pay_3","orderId":"order-0003","orderName":"월간 플랜","status":"ABORTED","method":"카드",
     "totalAmount":9900,"balanceAmount":0,"approvedAt":null,
     "failure":{"code":"COMMON_ERROR","message":"일시적인 오류가 발생했습니다. 잠시 후 다시 시도해주세요."}}
    """
}
