import Web

/// Refusals of the subscription routes, mapped to their HTTP codes in one place (docs/api.md#subscriptions-api).
enum SubscriptionError: HTTPErrorConvertible, Equatable {
    case planNotFound
    case subscriptionNotFound
    case orderNotFound
    case alreadySubscribed
    case invalidCustomerKey
    case customerKeyTaken
    case notPending
    case notActive
    case notCancelling
    case amountMismatch(expected: Int, given: Int)
    case tossRefused(code: String, message: String)
    case pgUnavailable(code: String)
    case chargeDeclined(code: String, message: String)
    /// The order's invoice was voided (the customer chose another plan): confirming it would pay for nothing.
    case orderVoid
    /// Another payment of the same invoice is waiting for Toss's answer.
    case paymentInProgress
    /// Toss approved this payment for a period already paid by another: gudok refunded it.
    case duplicateRefunded
    case invalidField(name: String, message: String)
    case cardRequired
    case samePlan
    case cycleChangeAtPeriodEnd
    case noScheduledChange
    case renewalDue
    case changeDeclined(code: String, message: String)
    case noPendingPrice
    case consentNotRequired

    var httpError: HTTPError {
        switch self {
        case .planNotFound: HTTPError(404, code: "PLAN_NOT_FOUND", message: "요금제를 찾을 수 없습니다.")
        case .subscriptionNotFound: HTTPError(404, code: "SUBSCRIPTION_NOT_FOUND", message: "구독을 찾을 수 없습니다.")
        case .orderNotFound: HTTPError(404, code: "ORDER_NOT_FOUND", message: "주문을 찾을 수 없습니다.")
        case .alreadySubscribed: HTTPError(409, code: "ALREADY_SUBSCRIBED", message: "이미 이용 중인 구독이 있습니다.")
        case .invalidCustomerKey:
            HTTPError(400, code: "INVALID_CUSTOMER_KEY", message: "customer_key는 영문, 숫자, - _ = . @ 로 된 2~50자여야 합니다.")
        case .customerKeyTaken: HTTPError(409, code: "CUSTOMER_KEY_TAKEN", message: "이미 사용 중인 customer_key입니다.")
        case .notPending: HTTPError(409, code: "NOT_PENDING", message: "결제를 기다리는 구독이 아닙니다.")
        case .notActive: HTTPError(400, code: "NOT_ACTIVE", message: "활성 구독이 아닙니다.")
        case .notCancelling: HTTPError(400, code: "NOT_CANCELLING", message: "해지 예약된 구독이 아닙니다.")
        case .amountMismatch(let expected, let given):
            HTTPError(400, code: "AMOUNT_MISMATCH", message: "결제 금액이 주문 금액과 다릅니다 (주문 \(expected)원, 요청 \(given)원).")
        case .tossRefused(let code, let message): HTTPError(400, code: code, message: message)
        case .pgUnavailable(let code):
            HTTPError(502, code: "PG_UNAVAILABLE", message: "결제사 응답을 받지 못했습니다 (\(code)). 결제 결과를 확인한 뒤 자동으로 반영합니다.")
        case .chargeDeclined(let code, let message): HTTPError(400, code: code, message: "카드는 등록되었지만 결제가 거절되었습니다: \(message)")
        case .orderVoid:
            HTTPError(409, code: "ORDER_VOID", message: "요금제가 바뀌어 더 이상 유효하지 않은 주문입니다. 새 요금제로 다시 결제해 주세요. 결제되지 않았습니다.")
        case .paymentInProgress:
            HTTPError(409, code: "PAYMENT_IN_PROGRESS", message: "이 청구서의 결제를 결제사에서 확인하고 있습니다. 이중 결제는 되지 않으니 잠시 후 다시 확인해 주세요.")
        case .invalidField(_, let message): HTTPError(400, code: "INVALID_FIELD", message: message)
        case .cardRequired:
            HTTPError(409, code: "CARD_REQUIRED", message: "요금제를 지금 바꾸려면 자동결제 카드가 필요합니다. /account 에서 카드를 먼저 등록해 주세요.")
        case .samePlan: HTTPError(409, code: "SAME_PLAN", message: "이미 이용 중인 요금제입니다.")
        case .cycleChangeAtPeriodEnd:
            HTTPError(400, code: "CYCLE_CHANGE_AT_PERIOD_END", message: "결제 주기가 다른 요금제로는 현재 결제 기간이 끝날 때 바꿀 수 있습니다 (when: period_end).")
        case .noScheduledChange: HTTPError(404, code: "NO_SCHEDULED_CHANGE", message: "예약된 요금제 변경이 없습니다.")
        case .renewalDue: HTTPError(409, code: "RENEWAL_DUE", message: "다음 기간 결제가 진행 중입니다. 결제가 끝난 뒤 다시 시도해 주세요.")
        case .changeDeclined(let code, let message):
            HTTPError(400, code: code, message: "결제가 거절되어 요금제가 바뀌지 않았습니다: \(message)")
        case .noPendingPrice: HTTPError(409, code: "NO_PENDING_PRICE", message: "동의를 기다리는 가격 변경이 없습니다.")
        case .consentNotRequired: HTTPError(409, code: "CONSENT_NOT_REQUIRED", message: "가격 인하는 동의 없이 적용됩니다.")
        case .duplicateRefunded:
            HTTPError(409, code: "DUPLICATE_PAYMENT_REFUNDED", message: "이미 결제가 끝난 기간이라 이 결제는 자동으로 전액 환불되었습니다.")
        }
    }
}
