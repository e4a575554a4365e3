/// Why an event does not apply to a subscription's current state.
public enum SubscriptionTransitionError: Error, Sendable, Equatable {
    /// `firstPaymentSucceeded` on a subscription that is not PENDING.
    case notPending
    /// An event that needs a running (ACTIVE, or for renewals PAST_DUE) subscription.
    case notActive
    /// `resume` without a pending cancel-at-period-end.
    case notResumable
    /// `periodEndReachedWithCancel` on a subscription that is not cancelling at period end.
    case notCancellingAtPeriodEnd
    /// A renewal outcome for another period than the one being collected
    /// (a stale or duplicate report: the period was already settled, or is not due yet).
    case periodMismatch(expected: Int, actual: Int)
    /// CANCELLED, EXPIRED and INACTIVE accept no event.
    case alreadyFinal(SubscriptionStatus)
}
