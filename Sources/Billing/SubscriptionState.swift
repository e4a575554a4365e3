import Foundation

/// The billing-relevant part of a subscription: what the state machine reads and writes.
public struct SubscriptionState: Sendable, Equatable {
    public var status: SubscriptionStatus
    /// The activation instant, the start of period 0; nil until the first payment.
    public var anchor: Date?
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
        currentPeriodIndex: Int = 0,
        cancelAtPeriodEnd: Bool = false,
        failedAttempts: Int = 0,
        retryImmediately: Bool = false,
        cancelledAt: Date? = nil
    ) {
        self.status = status
        self.anchor = anchor
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
}
