import Foundation
import Web

/// A subscriber's answer to a scheduled price change.
enum PriceConsent: String, Sendable {
    case pending = "PENDING"
    case given = "GIVEN"
    case declined = "DECLINED"
    /// A decrease: it applies without asking.
    case notRequired = "NOT_REQUIRED"
}

/// A scheduled price change waiting for one subscriber: shown on `/account` and as `pending_price` in the API.
struct PendingPrice: Sendable {
    var consentID: String
    var oldAmount: Int
    var amount: Int
    var effectiveAt: Date
    var consent: PriceConsent
    var decidedAt: Date?

    var isIncrease: Bool { amount > oldAmount }

    func json(zone: TimeZone) -> JSON {
        ["amount": .int(amount), "previous_amount": .int(oldAmount), "effective_at": .string(RFC3339.format(effectiveAt, in: zone)),
         "consent": .string(consent.rawValue), "decided_at": decidedAt.map { .string(RFC3339.format($0, in: zone)) } ?? .null]
    }
}
