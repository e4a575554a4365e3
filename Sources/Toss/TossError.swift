/// A failed Toss call: Toss's own `{code, message}`, or a code of ours (`PG_…`, `HTTP_…`) for
/// transport failures and unreadable answers. `kind` tells the caller what to do next.
public struct TossError: Error, Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// Final answer about the card or the payment: do not retry this attempt.
        case declined
        /// Nothing happened or Toss asked to come back: retry with the same idempotency key.
        case transient
        /// The request may or may not have taken effect: look the order up before anything else.
        case ambiguous
        /// Toss already handled this order or payment: look it up to learn the result.
        case alreadyProcessed
        /// Our keys or setup are wrong: retrying will not help.
        case configuration
        case notFound
        /// Toss refused the request's content (a bug on our side, usually).
        case invalidRequest
    }

    public var kind: Kind
    public var code: String
    public var message: String
    public var httpStatus: Int?

    public init(kind: Kind, code: String, message: String, httpStatus: Int? = nil) {
        self.kind = kind
        self.code = code
        self.message = message
        self.httpStatus = httpStatus
    }

    /// Classifies `code` and `httpStatus` with `Kind.classify`.
    public init(code: String, message: String, httpStatus: Int?) {
        self.init(kind: Kind.classify(code: code, httpStatus: httpStatus), code: code, message: message,
                  httpStatus: httpStatus)
    }
}

extension TossError: CustomStringConvertible {
    public var description: String {
        let status = httpStatus.map { ", HTTP \($0)" } ?? ""
        return "TossError(\(kind) \(code)\(status)): \(message)"
    }
}

extension TossError.Kind {
    /// Codes of our own for failures that never reached Toss's answer.
    public static let unreachableCode = "PG_UNREACHABLE"
    public static let timeoutCode = "PG_TIMEOUT"
    public static let connectionLostCode = "PG_CONNECTION_LOST"
    public static let invalidResponseCode = "PG_INVALID_RESPONSE"
    public static let clientErrorCode = "PG_CLIENT_ERROR"

    private static let exact: [String: TossError.Kind] = [
        "ALREADY_PROCESSED_PAYMENT": .alreadyProcessed,
        "DUPLICATED_ORDER_ID": .alreadyProcessed,

        "UNAUTHORIZED_KEY": .configuration,
        "INVALID_API_KEY": .configuration,
        "INCORRECT_BASIC_AUTH_FORMAT": .configuration,
        "INVALID_CLIENT_KEY": .configuration,
        clientErrorCode: .configuration,

        "NOT_FOUND_PAYMENT": .notFound,
        "NOT_FOUND": .notFound,
        "NOT_FOUND_BILLING": .notFound,
        "BILLING_KEY_NOT_FOUND": .notFound,

        "IDEMPOTENT_REQUEST_PROCESSING": .transient,
        "PROVIDER_ERROR": .transient,
        "COMMON_ERROR": .transient,
        "CARD_PROCESSING_ERROR": .transient,
        "FAILED_INTERNAL_SYSTEM_PROCESSING": .transient,
        "FAILED_PAYMENT_INTERNAL_SYSTEM_PROCESSING": .transient,
        "UNKNOWN_PAYMENT_ERROR": .transient,
        "FORBIDDEN_CONSECUTIVE_REQUEST": .transient,
        unreachableCode: .transient,

        timeoutCode: .ambiguous,
        connectionLostCode: .ambiguous,
        invalidResponseCode: .ambiguous,

        "NOT_MATCHES_CUSTOMER_KEY": .declined,
        "INVALID_BILL_KEY_REQUEST": .declined,
        "BELOW_MINIMUM_AMOUNT": .declined,
        "FDS_ERROR": .declined,
        "NOT_AVAILABLE_PAYMENT": .declined,
        "ALREADY_REFUND_PAYMENT": .declined,
        "NOT_MATCHES_REFUNDABLE_AMOUNT": .declined,
        "NOT_FOUND_PAYMENT_SESSION": .declined,
        "UNAPPROVED_ORDER_ID": .declined,
        "FORBIDDEN_REQUEST": .declined,
    ]

    private static let declinedPrefixes = ["REJECT_", "EXCEED_", "NOT_SUPPORTED_", "PAY_PROCESS_", "NOT_CANCELABLE_",
                                           "NOT_ALLOWED_"]

    /// What a Toss error code means for the caller. Known codes decide first, then the HTTP status:
    /// 5xx and 429 are transient, 401 is configuration, any other status is an invalid request.
    public static func classify(code: String, httpStatus: Int?) -> TossError.Kind {
        if let kind = exact[code] { return kind }
        if declinedPrefixes.contains(where: code.hasPrefix) { return .declined }
        if code.hasPrefix("INVALID_") && code.contains("CARD") { return .declined }
        switch httpStatus {
        case .some(500...599), .some(429): return .transient
        case .some(401): return .configuration
        default: return .invalidRequest
        }
    }
}
