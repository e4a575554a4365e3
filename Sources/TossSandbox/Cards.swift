// Test cards: how a card number behaves, and how it looks in Toss answers.

public enum CardBehavior: Sendable, Equatable {
    /// Authenticates and approves.
    case approve
    /// Refused in the card form itself (authentication fails).
    case declineAtAuthentication
    /// Authenticates, but every approval is refused with this error.
    case declineAtApproval(TossError)

    public static func == (a: CardBehavior, b: CardBehavior) -> Bool {
        switch (a, b) {
        case (.approve, .approve), (.declineAtAuthentication, .declineAtAuthentication): return true
        case let (.declineAtApproval(x), .declineAtApproval(y)): return x.code == y.code
        default: return false
        }
    }
}

public struct CardInfo: Sendable {
    public let number: String
    public let issuerCode: String
    public let company: String
    public let behavior: CardBehavior

    public var masked: String { Cards.mask(number) }
    public var acquirerCode: String { issuerCode }
    public var cardType: String { "신용" }
    public var ownerType: String { "개인" }
}

public enum Cards {
    public static let defaultNumber = "4330123412341234"
    public static let declineAtAuthentication = "4000000000000002"
    public static let declineInsufficientFunds = "4000000000000036"
    public static let declineByCardCompany = "4000000000000044"

    static let authenticationDeclineMessage = "카드사에서 인증이 거절되었습니다. (SANDBOX 테스트 카드)"

    /// Shown on the card form, the index page and docs/sandbox.md.
    public static let testCards: [(number: String, effect: String)] = [
        ("4330123412341234", "승인 (현대카드, 기본값) — 목록에 없는 16자리 번호는 모두 승인"),
        ("4000000000000002", "카드 인증 단계에서 거절 → failUrl?code=REJECT_CARD_COMPANY"),
        ("4000000000000036", "인증은 성공, 모든 승인(confirm·자동결제)이 403 REJECT_CARD_PAYMENT (한도초과 혹은 잔액부족)"),
        ("4000000000000044", "인증은 성공, 모든 승인이 403 REJECT_CARD_COMPANY (결제 승인이 거절되었습니다)"),
    ]

    /// Digits only; nil unless exactly 16 digits remain after removing spaces and dashes.
    public static func normalize(_ input: String) -> String? {
        var digits = ""
        for c in input {
            if c == " " || c == "-" { continue }
            guard let a = c.asciiValue, a >= 48 && a <= 57 else { return nil }
            digits.append(c)
        }
        return digits.count == 16 ? digits : nil
    }

    /// First 8 digits, `****`, the next 3 digits, `*`: `43301234****123*`.
    public static func mask(_ number: String) -> String {
        let d = Array(number)
        guard d.count == 16 else { return number }
        return String(d[0..<8]) + "****" + String(d[12..<15]) + "*"
    }

    /// Toss card company codes (docs.tosspayments.com/codes/org-codes).
    static func issuer(for number: String) -> (String, String) {
        if number.hasPrefix("4330") { return ("61", "현대") }
        if number.hasPrefix("5") { return ("41", "신한") }
        if number.hasPrefix("9") { return ("11", "KB국민") }
        if number.hasPrefix("35") || number.hasPrefix("37") { return ("51", "삼성") }
        if number.hasPrefix("6") { return ("91", "NH농협") }
        return ("31", "BC")
    }

    public static func info(_ number: String) -> CardInfo {
        let (code, company) = issuer(for: number)
        let behavior: CardBehavior
        switch number {
        case declineAtAuthentication: behavior = .declineAtAuthentication
        case declineInsufficientFunds: behavior = .declineAtApproval(TossError(403, "REJECT_CARD_PAYMENT", "한도초과 혹은 잔액부족으로 결제에 실패했습니다."))
        case declineByCardCompany: behavior = .declineAtApproval(TossError(403, "REJECT_CARD_COMPANY", "결제 승인이 거절되었습니다."))
        default: behavior = .approve
        }
        return CardInfo(number: number, issuerCode: code, company: company, behavior: behavior)
    }
}
