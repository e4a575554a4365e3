import Billing
import Foundation
import Storage

/// Every change of a subscription's billing state goes through here: the event is applied by the pure state machine,
/// the dates are recomputed, the row is saved compare-and-set on the version read, and the invoices follow (a
/// subscription that ends voids what it no longer owes; one whose dunning gave up leaves its invoice uncollectible).
struct SubscriptionLifecycle {
    let connection: DatabaseConnection
    let services: Services
    let now: Date

    enum Outcome {
        case applied(Subscription)
        case refused(SubscriptionTransitionError)
        /// Someone else changed the subscription since it was read.
        case lostRace
        case notFound
    }

    /// One attempt against the version in `subscription`. `adjust` may change dates after they are recomputed.
    func apply(_ event: SubscriptionEvent, to subscription: Subscription, adjust: (inout Subscription) -> Void = { _ in }) throws -> Outcome {
        let next: SubscriptionState
        switch subscription.state.applying(event, dunning: services.dunning) {
        case .failure(let refusal): return .refused(refusal)
        case .success(let state): next = state
        }
        var updated = subscription
        updated.state = next
        updated.refreshDates(calendar: services.calendar, dunning: services.dunning)
        adjust(&updated)
        guard try SubscriptionRepository(connection: connection).saveState(updated, now: now) else { return .lostRace }
        updated.version += 1
        try closeInvoices(after: updated)
        return .applied(updated)
    }

    /// Reads the subscription and applies `event`, reading again when another writer got there first.
    func apply(_ event: SubscriptionEvent, toSubscriptionID id: String, adjust: (inout Subscription) -> Void = { _ in }) throws -> Outcome {
        for _ in 0..<8 {
            guard let current = try SubscriptionRepository(connection: connection).find(id: id) else { return .notFound }
            let outcome = try apply(event, to: current, adjust: adjust)
            if case .lostRace = outcome { continue }
            return outcome
        }
        return .lostRace
    }

    /// Dunning ran out of attempts without a decline to apply (the schedule was shortened): INACTIVE, nothing charged.
    func giveUp(_ subscription: Subscription) throws -> Bool {
        var stopped = subscription
        stopped.status = .inactive
        stopped.refreshDates(calendar: services.calendar, dunning: services.dunning)
        guard try SubscriptionRepository(connection: connection).saveState(stopped, now: now) else { return false }
        try closeInvoices(after: stopped)
        return true
    }

    private func closeInvoices(after subscription: Subscription) throws {
        let invoices = InvoiceRepository(connection: connection)
        switch subscription.status {
        case .cancelled, .expired: try invoices.closeOpen(subscriptionID: subscription.id, as: .void, now: now)
        case .inactive: try invoices.closeOpen(subscriptionID: subscription.id, as: .uncollectible, now: now)
        case .pending, .active, .pastDue: break
        }
    }
}
