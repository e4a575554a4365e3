import Billing
import Web

/// Refusals of the back office, mapped to `{message, code}` in one place.
enum AdminError: HTTPErrorConvertible, Equatable {
    case invalidFilter(name: String, value: String)
    case invalidSort(String)
    case invalidPage(String)
    case invalidField(name: String, message: String)
    case planNotFound
    case paymentNotFound
    case subscriptionNotFound
    case userNotFound
    case eventNotFound
    case planInUse(String)
    case notRefundable(String)
    case refundExceedsBalance(balance: Int, requested: Int)
    case invalidRefundAmount(Int)
    case invalidRefundReason
    case refundConflict
    case subscriptionNotCancellable
    case tossRefused(code: String, message: String)
    case pgUnavailable(code: String)

    var httpError: HTTPError {
        switch self {
        case .invalidFilter(let name, let value):
            HTTPError(400, code: "INVALID_FILTER", message: "검색 조건 '\(name)'의 값 '\(value.prefix(50))'이(가) 올바르지 않습니다.")
        case .invalidSort(let value):
            HTTPError(400, code: "INVALID_SORT", message: "'\(value.prefix(50))'(으)로는 정렬할 수 없습니다.")
        case .invalidPage(let value):
            HTTPError(400, code: "INVALID_PAGE",
                      message: "페이지 '\(value.prefix(20))'이(가) 올바르지 않습니다 (1~\(AdminPaging.maxPage)). 더 뒤의 결과는 검색 조건을 좁혀서 보세요.")
        case .invalidField(_, let message): HTTPError(400, code: "VALIDATION_ERROR", message: message)
        case .planNotFound: HTTPError(404, code: "PLAN_NOT_FOUND", message: "요금제를 찾을 수 없습니다.")
        case .paymentNotFound: HTTPError(404, code: "PAYMENT_NOT_FOUND", message: "결제를 찾을 수 없습니다.")
        case .subscriptionNotFound: HTTPError(404, code: "SUBSCRIPTION_NOT_FOUND", message: "구독을 찾을 수 없습니다.")
        case .userNotFound: HTTPError(404, code: "USER_NOT_FOUND", message: "회원을 찾을 수 없습니다.")
        case .eventNotFound: HTTPError(404, code: "WEBHOOK_EVENT_NOT_FOUND", message: "웹훅 이벤트를 찾을 수 없습니다.")
        case .planInUse(let message): HTTPError(409, code: "PLAN_IN_USE", message: message)
        case .notRefundable(let message): HTTPError(409, code: "NOT_REFUNDABLE", message: message)
        case .refundExceedsBalance(let balance, let requested):
            HTTPError(400, code: "REFUND_EXCEEDS_BALANCE",
                      message: "환불 요청 금액(\(Won.format(requested)))이 환불 가능 금액(\(Won.format(balance)))보다 큽니다.")
        case .invalidRefundAmount(let amount):
            HTTPError(400, code: "INVALID_REFUND_AMOUNT", message: "환불 금액은 1원 이상이어야 합니다 (요청 \(Won.format(amount))).")
        case .invalidRefundReason:
            HTTPError(400, code: "INVALID_REFUND_REASON", message: "환불 사유를 1~200자로 입력하세요.")
        case .refundConflict:
            HTTPError(409, code: "REFUND_CONFLICT", message: "화면을 연 뒤 결제의 환불 상태가 바뀌었습니다. 이미 처리된 요청일 수 있으니 새로고침한 뒤 확인하세요.")
        case .subscriptionNotCancellable: HTTPError(409, code: "NOT_CANCELLABLE", message: "이미 종료된 구독입니다.")
        case .tossRefused(let code, let message): HTTPError(400, code: code, message: "토스페이먼츠가 요청을 거절했습니다: \(message)")
        case .pgUnavailable(let code):
            HTTPError(502, code: "PG_UNAVAILABLE", message: "토스페이먼츠 응답을 받지 못했습니다 (\(code)). 기록은 바뀌지 않았습니다. 같은 요청을 다시 보내도 두 번 환불되지 않습니다.")
        }
    }
}
