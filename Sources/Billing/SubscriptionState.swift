import Foundation

/// The billing-relevant part of a subscription: what the state machine reads and writes.
public struct SubscriptionState: Sendable, Equatable {
    public var status: SubscriptionStatus
    /// The start of period `anchorIndex`: the activation instant (period 0), or the start of the period where a
    /// change of billing cycle took effect. Nil until the first payment.
    public var anchor: Date?
    /// The period that starts at `anchor`; 0 unless the billing cycle was changed.
    public var anchorIndex: Int
    /// The period paid for (ACTIVE), or the last one paid before the period being collected (PAST_DUE).
    public var currentPeriodIndex: Int
    public var cancelAtPeriodEnd: Bool
    /// Declined attempts for the period being collected; 0 while ACTIVE.
    public var failedAttempts: Int
    /// Set when a new card arrives during PAST_DUE: the next attempt is due at once,
    /// not at its scheduled retry date. Cleared by the attempt's outcome.
    public var retryImmediately: Bool
    /// When a `cancelNow` ended the subscription.
    public var cancelledAt: Date?

    public init(
        status: SubscriptionStatus,
        anchor: Date? = nil,
        anchorIndex: Int = 0,
        currentPeriodIndex: Int = 0,
        cancelAtPeriodEnd: Bool = false,
        failedAttempts: Int = 0,
        retryImmediately: Bool = false,
        cancelledAt: Date? = nil
    ) {
        self.status = status
        self.anchor = anchor
        self.anchorIndex = anchorIndex
        self.currentPeriodIndex = currentPeriodIndex
        self.cancelAtPeriodEnd = cancelAtPeriodEnd
        self.failedAttempts = failedAttempts
        self.retryImmediately = retryImmediately
        self.cancelledAt = cancelledAt
    }

    /// A new subscription waiting for its first payment.
    public static let pending = SubscriptionState(status: .pending)

    /// The period a renewal charge is for: the one after the paid period.
    public var periodBeingCollected: Int { currentPeriodIndex + 1 }

    /// The start of period `index` (at or after `anchorIndex`) on `cycle`; nil before the first payment.
    public func periodStart(_ index: Int, calendar: BillingCalendar, cycle: BillingCycle) -> Date? {
        anchor.map { calendar.periodStart(anchor: $0, cycle: cycle, index: index - anchorIndex) }
    }

    /// Period `index` as a half-open interval; nil before the first payment.
    public func period(_ index: Int, calendar: BillingCalendar, cycle: BillingCycle) -> BillingPeriod? {
        anchor.map { calendar.period(anchor: $0, cycle: cycle, index: index - anchorIndex) }.map {
            BillingPeriod(index: index, start: $0.start, end: $0.end)
        }
    }

    /// Re-anchors on the start of period `index` so that periods from there on follow another billing cycle.
    public mutating func reanchor(at index: Int, start: Date) {
        anchor = start
        anchorIndex = index
    }
}
