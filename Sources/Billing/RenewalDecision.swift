import Foundation

/// What the biller must do for one subscription at a given instant.
public enum RenewalDecision: Equatable, Sendable {
    /// Nothing is due (or the subscription is not billable at all).
    case notDue
    /// Cancelling at period end and the period is over: mark EXPIRED, charge nothing.
    case expire
    /// Charge period `periodIndex`, attempt number `attempt` (1 = the renewal itself);
    /// `dueAt` is when the schedule made it due.
    case charge(periodIndex: Int, attempt: Int, dueAt: Date)
    /// The dunning schedule has no attempt left (it was shortened after the last
    /// decline): mark INACTIVE, charge nothing.
    case giveUp
}

/// What is due for `state` at `now` (docs/billing.md#due-query-and-claims).
///
/// ACTIVE: period `currentPeriodIndex + 1` is due at its start; then expire if
/// cancelling at period end, else charge attempt 1. PAST_DUE: the next attempt
/// is due on the dunning schedule counted from that period's start — or at once
/// after a card replacement. Every other status, and an ACTIVE or PAST_DUE state
/// without an anchor, has nothing due.
public func renewalDecision(
    state: SubscriptionState,
    now: Date,
    calendar: BillingCalendar,
    cycle: BillingCycle,
    dunning: DunningSchedule
) -> RenewalDecision {
    let period = state.periodBeingCollected
    guard let originalDue = state.periodStart(period, calendar: calendar, cycle: cycle) else { return .notDue }

    switch state.status {
    case .active:
        guard now >= originalDue else { return .notDue }
        if state.cancelAtPeriodEnd { return .expire }
        return .charge(periodIndex: period, attempt: 1, dueAt: originalDue)

    case .pastDue:
        let attempt = state.failedAttempts + 1
        guard let dueAt = dunning.dueDate(forAttempt: attempt, originalDue: originalDue, calendar: calendar) else {
            return .giveUp
        }
        guard now >= dueAt || state.retryImmediately else { return .notDue }
        return .charge(periodIndex: period, attempt: attempt, dueAt: dueAt)

    case .pending, .cancelled, .expired, .inactive:
        return .notDue
    }
}
