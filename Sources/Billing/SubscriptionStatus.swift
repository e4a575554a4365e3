/// Where a subscription stands (docs/billing.md#subscription-statuses). Raw values are the API's and the database's.
public enum SubscriptionStatus: String, Sendable, CaseIterable {
    /// Created; the first period is not paid yet.
    case pending = "PENDING"
    /// The current period is paid.
    case active = "ACTIVE"
    /// A renewal was declined; dunning retries are running.
    case pastDue = "PAST_DUE"
    /// Cancelled immediately by the customer.
    case cancelled = "CANCELLED"
    /// Ran out at the end of a period after a cancel-at-period-end.
    case expired = "EXPIRED"
    /// Every dunning retry was declined; never charged again.
    case inactive = "INACTIVE"

    /// Final statuses accept no further event.
    public var isFinal: Bool {
        switch self {
        case .cancelled, .expired, .inactive: true
        case .pending, .active, .pastDue: false
        }
    }

    /// ACTIVE or PAST_DUE: a paid period is running or the next one is being collected; the subscription renews.
    public var isOngoing: Bool { self == .active || self == .pastDue }

    /// The label shown on Korean pages (the seed's wording where it had one).
    public var koreanLabel: String {
        switch self {
        case .pending: "대기중"
        case .active: "활성"
        case .pastDue: "미납"
        case .cancelled: "취소됨"
        case .expired: "만료됨"
        case .inactive: "비활성"
        }
    }
}
