import Foundation

/// Something that happened to a subscription, fed to `SubscriptionState.applying(_:dunning:)`.
public enum SubscriptionEvent: Sendable, Equatable {
    /// The first period's charge completed; `at` becomes the anchor.
    case firstPaymentSucceeded(at: Date)
    /// The charge for period `periodIndex` completed.
    case renewalSucceeded(periodIndex: Int)
    /// The charge for period `periodIndex` was definitively declined (never send this for an ambiguous outcome).
    case renewalDeclined(periodIndex: Int)
    /// The due date of the next period arrived while cancelling at period end.
    case periodEndReachedWithCancel
    /// The customer cancelled with immediate effect.
    case cancelNow(at: Date)
    /// The customer asked to stop at the end of the paid period.
    case cancelAtPeriodEnd
    /// The customer withdrew a cancel-at-period-end.
    case resume
    /// A new billing key (card) was issued for the subscription.
    case cardReplaced
}
