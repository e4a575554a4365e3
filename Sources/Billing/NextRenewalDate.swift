import Foundation

/// The instant from which `renewalDecision` has something to do for `state`,
/// or nil when it never will. Store it as `next_billing_date` so the biller can
/// select due subscriptions with `next_billing_date <= now` and then ask
/// `renewalDecision` what to do.
///
/// ACTIVE: the next period's start (a charge, or the expiry when cancelling at
/// period end). PAST_DUE: the next attempt's due date on the dunning schedule;
/// the period's original due date (already past) when a new card made the retry
/// immediate or when the schedule has no attempt left, so the next pass acts at once.
public func nextRenewalDate(
    state: SubscriptionState,
    calendar: BillingCalendar,
    cycle: BillingCycle,
    dunning: DunningSchedule
) -> Date? {
    guard let originalDue = state.periodStart(state.periodBeingCollected, calendar: calendar, cycle: cycle) else { return nil }
    switch state.status {
    case .active:
        return originalDue
    case .pastDue:
        if state.retryImmediately { return originalDue }
        return dunning.dueDate(forAttempt: state.failedAttempts + 1, originalDue: originalDue, calendar: calendar)
            ?? originalDue
    case .pending, .cancelled, .expired, .inactive:
        return nil
    }
}
