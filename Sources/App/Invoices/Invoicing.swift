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
                return try connection.transaction { try insert(draft, connection: connection, now: now) }
            } catch let error as DatabaseError where error.isUniqueViolation {
                guard let winner = try invoices.period(subscriptionID: subscription.id, index: index) else { throw error }
                return winner
            }
        }
    }

    enum InvoicingError: Error {
        /// The subscription's carried balance changed since the draft was priced: price it again.
        case balanceChanged
    }

    /// Inserts a draft and takes what it carried off the subscription's balance, in the caller's transaction.
    func insert(_ draft: InvoiceRepository.Draft, connection: DatabaseConnection, now: Date) throws -> Invoice {
        let invoice = try InvoiceRepository(connection: connection).insert(draft, now: now, calendar: services.calendar)
        if draft.carried != 0 {
            guard try SubscriptionRepository(connection: connection).moveBalance(id: draft.subscriptionID, expected: draft.balanceBefore,
                                                                                 by: -draft.carried)
            else { throw InvoicingError.balanceChanged }
        }
        return invoice
    }

    /// What the period costs at the subscriber's price, with what a plan change carried over (owed won as a PRORATION line,
    /// a credit as a CREDIT line that never takes the total under the minimum charge); its dates once the subscription has
    /// an anchor.
    func periodDraft(for subscription: Subscription, index: Int) -> InvoiceRepository.Draft {
        var draft = InvoiceRepository.Draft.period(of: subscription, plan: subscription.pricedPlan, index: index, start: nil, end: nil)
        draft.balanceBefore = subscription.balance
        var floor = subscription.price
        if let coupon = subscription.coupon, coupon.appliesToNextInvoice {
            let discount = MinimumCharge.usableReduction(
                CouponDiscount.amount(price: subscription.price, percentOff: coupon.percentOff, amountOff: coupon.amountOff), subtotal: subscription.price)
            if discount > 0 {
                let summary = Coupon.summary(percentOff: coupon.percentOff, amountOff: coupon.amountOff)
                draft.lines.append(InvoiceLine(kind: .discount, description: "쿠폰 \(coupon.code) (\(summary))", amount: -discount))
                draft.couponID = coupon.id
                floor -= discount
            }
        }
        if subscription.balance > 0 {
            draft.lines.append(InvoiceLine(kind: .proration, description: "이전 요금제 변경 차액", amount: subscription.balance))
            draft.carried = subscription.balance
        } else if subscription.balance < 0 {
            let usable = MinimumCharge.usableReduction(-subscription.balance, subtotal: floor)
            if usable > 0 {
                draft.lines.append(InvoiceLine(kind: .credit, description: "요금제 변경 크레딧", amount: -usable))
                draft.carried = -usable
            }
        }
        guard let period = subscription.state.period(index, calendar: services.calendar, cycle: subscription.cycle) else { return draft }
        // The period being collected starts where the paid one ends, which the subscription already holds.
        draft.periodStart = index == subscription.currentPeriodIndex + 1 ? subscription.endDate ?? period.start : period.start
        draft.periodEnd = period.end
        return draft
    }
}
