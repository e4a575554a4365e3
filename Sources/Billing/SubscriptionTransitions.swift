import Foundation

extension SubscriptionState {
    /// The state after `event`, or why the event does not apply. Pure: no clock, no I/O.
    ///
    /// Decisions the rules leave open (docs/billing.md#subscription-statuses):
    /// - Every event on a final status (CANCELLED, EXPIRED, INACTIVE) is `alreadyFinal`.
    /// - `cancelNow` works from PENDING too: abandoning a checkout that never paid.
    /// - `cancelAtPeriodEnd` needs ACTIVE: a PAST_DUE subscription has no paid period
    ///   left to run out (cancel it now instead); repeating it is harmless.
    /// - Renewal outcomes must name the period being collected, so a replayed or
    ///   stale report cannot move the subscription twice.
    /// - A renewal that succeeds while cancelling at period end (an ambiguous charge
    ///   settled late) is recorded: the money was taken, so the period is paid and
    ///   the subscription expires at its end instead.
    /// - A renewal declined while cancelling at period end (the charge was in flight when the customer cancelled)
    ///   ends the subscription (EXPIRED) instead of starting dunning.
    /// - `cardReplaced` during PAST_DUE makes the next attempt due at once; it still
    ///   counts as one of the schedule's attempts, since its order id must be new.
    public func applying(
        _ event: SubscriptionEvent,
        dunning: DunningSchedule
    ) -> Result<SubscriptionState, SubscriptionTransitionError> {
        if status.isFinal { return .failure(.alreadyFinal(status)) }
        var next = self
        switch event {
        case .firstPaymentSucceeded(let at):
            guard status == .pending else { return .failure(.notPending) }
            next = SubscriptionState(status: .active, anchor: at)

        case .renewalSucceeded(let periodIndex):
            guard status == .active || status == .pastDue else { return .failure(.notActive) }
            guard periodIndex == periodBeingCollected else {
                return .failure(.periodMismatch(expected: periodBeingCollected, actual: periodIndex))
            }
            next.status = .active
            next.currentPeriodIndex = periodIndex
            next.failedAttempts = 0
            next.retryImmediately = false

        case .renewalDeclined(let periodIndex):
            guard status == .active || status == .pastDue else { return .failure(.notActive) }
            guard periodIndex == periodBeingCollected else {
                return .failure(.periodMismatch(expected: periodBeingCollected, actual: periodIndex))
            }
            next.failedAttempts += 1
            next.retryImmediately = false
            if cancelAtPeriodEnd {
                // The customer is leaving: a renewal that was already in flight when they cancelled is not dunned.
                next.status = .expired
            } else {
                next.status = next.failedAttempts >= dunning.maxAttempts ? .inactive : .pastDue
            }

        case .periodEndReachedWithCancel:
            guard status == .active else { return .failure(.notActive) }
            guard cancelAtPeriodEnd else { return .failure(.notCancellingAtPeriodEnd) }
            next.status = .expired

        case .cancelNow(let at):
            next.status = .cancelled
            next.cancelledAt = at
            next.retryImmediately = false

        case .cancelAtPeriodEnd:
            guard status == .active else { return .failure(.notActive) }
            next.cancelAtPeriodEnd = true

        case .resume:
            guard status == .active, cancelAtPeriodEnd else { return .failure(.notResumable) }
            next.cancelAtPeriodEnd = false

        case .cardReplaced:
            if status == .pastDue { next.retryImmediately = true }
        }
        return .success(next)
    }
}

/// Free-function form of `SubscriptionState.applying(_:dunning:)`.
public func apply(
    _ event: SubscriptionEvent,
    to state: SubscriptionState,
    dunning: DunningSchedule
) -> Result<SubscriptionState, SubscriptionTransitionError> {
    state.applying(event, dunning: dunning)
}
