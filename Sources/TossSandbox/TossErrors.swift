// Toss error answers: `{"code","message"}` with the HTTP status Toss uses.
// Messages follow docs.tosspayments.com/reference/error-codes.

import JSON

public struct TossError: Error, Sendable {
    public let status: Int
    public let code: String
    public let message: String

    public init(_ status: Int, _ code: String, _ message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    /// A known code with its usual status and message (unknown codes: 400).
    public static func known(_ code: String, message: String? = nil, status: Int? = nil) -> TossError {
        let entry = table[code]
        return TossError(status ?? entry?.0 ?? 400, code,
                         message ?? entry?.1 ?? "테스트 코드로 재현한 에러입니다.")
    }

    public var json: JSON { .fields([("code", .string(code)), ("message", .string(message))]) }

    public static func invalidRequest(_ detail: String? = nil) -> TossError {
        TossError(400, "INVALID_REQUEST", detail.map { "잘못된 요청입니다. \($0)" } ?? "잘못된 요청입니다.")
    }

    static let incorrectBasicAuth = known("INCORRECT_BASIC_AUTH_FORMAT")
    static let unauthorizedKey = known("UNAUTHORIZED_KEY")
    static let notFoundPayment = known("NOT_FOUND_PAYMENT")
    static let notFoundPaymentSession = known("NOT_FOUND_PAYMENT_SESSION")
    static let notFoundBilling = known("NOT_FOUND_BILLING")
    static let alreadyProcessed = known("ALREADY_PROCESSED_PAYMENT")
    static let rejectCardPayment = known("REJECT_CARD_PAYMENT")
    static let rejectCardCompany = known("REJECT_CARD_COMPANY")

    /// code → (HTTP status, message)
    static let table: [String: (Int, String)] = [
        // auth
        "INCORRECT_BASIC_AUTH_FORMAT": (403, "잘못된 요청입니다. ':' 를 포함해 인코딩해주세요."),
        "UNAUTHORIZED_KEY": (401, "인증되지 않은 시크릿 키 혹은 클라이언트 키 입니다."),
        "INVALID_API_KEY": (400, "잘못된 시크릿키 연동 정보 입니다."),
        // idempotency
        "INVALID_IDEMPOTENCY_KEY": (400, "멱등키는 300자 이하여야 합니다."),
        "IDEMPOTENT_REQUEST_PROCESSING": (409, "이전 멱등 요청이 처리중입니다."),
        // confirm / approval
        "ALREADY_PROCESSED_PAYMENT": (400, "이미 처리된 결제 입니다."),
        "PROVIDER_ERROR": (400, "일시적인 오류가 발생했습니다. 잠시 후 다시 시도해주세요."),
        "INVALID_REQUEST": (400, "잘못된 요청입니다."),
        "INVALID_REJECT_CARD": (400, "카드 사용이 거절되었습니다. 카드사 문의가 필요합니다."),
        "BELOW_MINIMUM_AMOUNT": (400, "신용카드는 결제금액이 100원 이상, 계좌는 200원이상부터 결제가 가능합니다."),
        "INVALID_CARD_EXPIRATION": (400, "카드 정보를 다시 확인해주세요 (유효기간)."),
        "INVALID_STOPPED_CARD": (400, "정지된 카드 입니다."),
        "INVALID_CARD_NUMBER": (400, "카드번호를 다시 확인해주세요."),
        "INVALID_CARD_LOST_OR_STOLEN": (400, "분실 혹은 도난 카드입니다."),
        "EXCEED_MAX_DAILY_PAYMENT_COUNT": (400, "하루 결제 가능 횟수를 초과했습니다."),
        "EXCEED_MAX_PAYMENT_AMOUNT": (400, "하루 결제 가능 금액을 초과했습니다."),
        "EXCEED_MAX_AMOUNT": (400, "거래금액 한도를 초과했습니다."),
        "EXCEED_MAX_CARD_INSTALLMENT_PLAN": (400, "설정 가능한 최대 할부 개월 수를 초과했습니다."),
        "INVALID_CARD_INSTALLMENT_PLAN": (400, "할부 개월 정보가 잘못되었습니다."),
        "UNAPPROVED_ORDER_ID": (400, "아직 승인되지 않은 주문번호입니다."),
        "CARD_PROCESSING_ERROR": (400, "카드사에서 오류가 발생했습니다."),
        "NOT_AVAILABLE_PAYMENT": (400, "결제가 불가능한 시간대입니다."),
        "DUPLICATED_ORDER_ID": (400, "이미 승인 및 취소가 진행된 중복된 주문번호 입니다. 다른 주문번호로 진행해주세요."),
        "NOT_SUPPORTED_METHOD": (400, "지원되지 않는 결제수단입니다."),
        "REJECT_CARD_PAYMENT": (403, "한도초과 혹은 잔액부족으로 결제에 실패했습니다."),
        "REJECT_CARD_COMPANY": (403, "결제 승인이 거절되었습니다."),
        "FORBIDDEN_REQUEST": (403, "허용되지 않은 요청입니다."),
        "REJECT_ACCOUNT_PAYMENT": (403, "잔액부족으로 결제에 실패했습니다."),
        "EXCEED_MAX_AUTH_COUNT": (403, "최대 인증 횟수를 초과했습니다."),
        "EXCEED_MAX_ONE_DAY_AMOUNT": (403, "일일 한도를 초과했습니다."),
        "FDS_ERROR": (403, "위험거래가 감지되어 결제가 제한됩니다."),
        "FORBIDDEN_CONSECUTIVE_REQUEST": (403, "반복적인 요청은 허용되지 않습니다. 잠시 후 다시 시도해주세요."),
        "NOT_FOUND_PAYMENT": (404, "존재하지 않는 결제 입니다."),
        "NOT_FOUND_PAYMENT_SESSION": (404, "결제 시간이 만료되어 결제 진행 데이터가 존재하지 않습니다."),
        "NOT_FOUND": (404, "존재하지 않는 정보 입니다."),
        "FAILED_INTERNAL_SYSTEM_PROCESSING": (500, "내부 시스템 처리 작업이 실패했습니다. 잠시 후 다시 시도해주세요."),
        "FAILED_PAYMENT_INTERNAL_SYSTEM_PROCESSING": (500, "결제가 완료되지 않았어요. 다시 시도해주세요."),
        "UNKNOWN_PAYMENT_ERROR": (500, "결제에 실패했어요. 같은 문제가 반복된다면 은행이나 카드사로 문의해주세요."),
        "COMMON_ERROR": (500, "일시적인 오류가 발생했습니다. 잠시 후 다시 시도해주세요."),
        // cancel
        "NOT_CANCELABLE_AMOUNT": (403, "취소 할 수 없는 금액 입니다."),
        "NOT_CANCELABLE_PAYMENT": (403, "취소 할 수 없는 결제 입니다."),
        "ALREADY_CANCELED_PAYMENT": (400, "이미 취소된 결제 입니다."),
        "EXCEED_MAX_REFUND_DUE": (403, "환불 가능한 기간이 지났습니다."),
        "NOT_ALLOWED_PARTIAL_REFUND": (403, "에스크로 주문, 현금 카드 결제일 때는 부분 환불이 불가합니다."),
        "NOT_MATCHES_REFUNDABLE_AMOUNT": (400, "잔액 결과가 일치하지 않습니다."),
        "ALREADY_REFUND_PAYMENT": (400, "이미 환불된 결제입니다."),
        "FAILED_REFUND_PROCESS": (500, "환불요청에 실패했습니다."),
        "FAILED_PARTIAL_REFUND": (500, "부분 환불이 실패했습니다."),
        "FAILED_METHOD_HANDLING_CANCEL": (500, "취소 중 결제 시 사용한 결제 수단 처리과정에서 일시적인 오류가 발생했습니다."),
        // billing
        "NOT_MATCHES_CUSTOMER_KEY": (400, "빌링 인증 고객키와 결제 요청 고객키가 일치하지 않습니다."),
        "INVALID_BILL_KEY_REQUEST": (400, "빌링키 요청이 잘못되었습니다."),
        "INVALID_AUTH_KEY": (400, "유효하지 않은 authKey 입니다. 이미 사용되었거나 만료되었습니다."),
        "NOT_FOUND_BILLING": (404, "존재하지 않는 빌링키 정보 입니다."),
        // transport-ish
        "TOO_MANY_REQUESTS": (429, "요청이 너무 많습니다. 잠시 후 다시 시도해주세요."),
    ]
}
