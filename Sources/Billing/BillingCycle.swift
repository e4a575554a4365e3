/// How often a plan renews. Raw values are the API's and the database's.
public enum BillingCycle: String, Sendable, CaseIterable {
    case monthly = "MONTHLY"
    case quarterly = "QUARTERLY"
    case yearly = "YEARLY"

    /// The length of one billing period in calendar months.
    public var months: Int {
        switch self {
        case .monthly: 1
        case .quarterly: 3
        case .yearly: 12
        }
    }

    /// The unit shown after the price on Korean pages: "9,900원 / 월".
    public var koreanUnit: String {
        switch self {
        case .monthly: "월"
        case .quarterly: "분기"
        case .yearly: "년"
        }
    }

    /// The price as the pricing page shows it, e.g. "9,900원 / 월".
    public func pricePhrase(_ amount: Int) -> String {
        "\(Won.format(amount)) / \(koreanUnit)"
    }
}
