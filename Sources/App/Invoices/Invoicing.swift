import Billing
import Foundation
import Storage

/// Makes the invoices that charges pay: one per (subscription, period), frozen from the plan when made.
struct Invoicing {
    let database: Database
    let services: Services

    /// The period's invoice; made now from the subscription's current plan if the period has none. A concurrent maker
    /// loses on the unique index and reads the winner's.
    func periodInvoice(for subscription: Subscription, index: Int, now: Date) throws -> Invoice {
        try database.withConnection { connection in
            let invoices = InvoiceRepository(connection: connection)
            if let existing = try invoices.period(subscriptionID: subscription.id, index: index) { return existing }
            let draft = periodDraft(for: subscription, index: index)
            do {
                return try connection.transaction { try invoices.insert(draft, now: now, calendar: services.calendar) }
            } catch let error as DatabaseError where error.isUniqueViolation {
                guard let winner = try invoices.period(subscriptionID: subscription.id, index: index) else { throw error }
                return winner
            }
        }
    }

    /// What the period costs on the subscription's plan as it is now; its dates once the subscription has an anchor.
    func periodDraft(for subscription: Subscription, index: Int) -> InvoiceRepository.Draft {
        guard let anchor = subscription.anchor else { return .period(of: subscription, plan: subscription.plan, index: index, start: nil, end: nil) }
        // The period being collected starts where the paid one ends, which the subscription already holds.
        let start = index == subscription.currentPeriodIndex + 1 ? subscription.endDate : nil
        return .period(of: subscription, plan: subscription.plan, index: index,
                       start: start ?? services.calendar.periodStart(anchor: anchor, cycle: subscription.cycle, index: index),
                       end: services.calendar.periodStart(anchor: anchor, cycle: subscription.cycle, index: index + 1))
    }
}
