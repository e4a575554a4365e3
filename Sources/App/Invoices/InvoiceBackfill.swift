import Billing
import Foundation
import Storage

/// Gives every payment and checkout order made before invoices existed its invoice, with nothing lost: one invoice per
/// (subscription, period), priced at what was charged, PAID by its first approval. A later approval of the same period
/// (a double charge the old code could make) is marked surplus, so reconcile refunds it. Idempotent: `gudok migrate`
/// runs it every time, and only rows without an invoice are touched.
enum InvoiceBackfill {
    struct Summary: CustomStringConvertible {
        var invoices = 0
        var payments = 0
        var orders = 0
        var surplus = 0
        var description: String { "invoices=\(invoices) payments=\(payments) orders=\(orders) surplus=\(surplus)" }
        var isEmpty: Bool { invoices == 0 && payments == 0 && orders == 0 }
    }

    static func run(database: Database, calendar: BillingCalendar, now: Date) throws -> Summary {
        try database.withConnection { connection in
            try connection.transaction {
                if connection.dialect == .postgres { try connection.execute("SELECT pg_advisory_xact_lock(?)", [.int(0x6775646F6B + 6)]) }
                var summary = Summary()
                for group in try PaymentRepository(connection: connection).periodsWithoutInvoice() {
                    try backfill(subscriptionID: group.subscriptionID, periodIndex: group.periodIndex, createdAt: group.firstAttemptAt, connection,
                                 calendar: calendar, now: now, summary: &summary)
                }
                try attachOrders(connection, calendar: calendar, now: now, summary: &summary)
                return summary
            }
        }
    }

    private static func backfill(subscriptionID: String, periodIndex: Int, createdAt: Date, _ connection: DatabaseConnection, calendar: BillingCalendar,
                                 now: Date, summary: inout Summary) throws {
        guard let subscription = try SubscriptionRepository(connection: connection).find(id: subscriptionID) else { return }
        let attempts = try PaymentRepository(connection: connection).attempts(subscriptionID: subscriptionID, periodIndex: periodIndex)
        let invoices = InvoiceRepository(connection: connection)
        let approved = attempts.filter { [.completed, .cancelled, .partialCancelled].contains($0.status) }.sorted { ($0.paidAt ?? $0.createdAt) < ($1.paidAt ?? $1.createdAt) }
        var invoice = try invoices.period(subscriptionID: subscriptionID, index: periodIndex)
        if invoice == nil {
            let charged = attempts.first?.amount ?? subscription.plan.price
            var plan = subscription.plan
            plan.price = charged
            let period = subscription.anchor.map { calendar.period(anchor: $0, cycle: subscription.cycle, index: periodIndex) }
            var draft = InvoiceRepository.Draft.period(of: subscription, plan: plan, index: periodIndex, start: period?.start, end: period?.end)
            if let name = attempts.first?.orderName { draft.lines = [InvoiceLine(kind: .plan, description: name, amount: charged)] }
            let status: InvoiceStatus
            switch (approved.first, subscription.status) {
            case (.some, _): status = .paid
            case (nil, .inactive): status = .uncollectible
            case (nil, .cancelled), (nil, .expired): status = .void
            case (nil, _): status = .open
            }
            invoice = try invoices.insert(draft, now: createdAt, calendar: calendar, status: status, paidPaymentID: approved.first?.id,
                                          paidAt: approved.first.map { $0.paidAt ?? $0.createdAt })
            summary.invoices += 1
        }
        guard let invoice else { return }
        var inFlight = attempts.contains { $0.invoiceID == invoice.id && $0.status == .pending && !$0.surplus }
        for payment in attempts where payment.invoiceID == nil {
            var surplus = false
            if payment.status == .pending {
                surplus = inFlight
                inFlight = true
            } else if [.completed, .cancelled, .partialCancelled].contains(payment.status) {
                surplus = payment.id != invoice.paidPaymentID
            }
            try PaymentRepository(connection: connection).attachInvoice(paymentID: payment.id, invoiceID: invoice.id, surplus: surplus)
            try OrderRepository(connection: connection).attachInvoice(orderID: payment.orderID, invoiceID: invoice.id)
            summary.payments += 1
            if surplus && payment.status != .pending { summary.surplus += 1 }
        }
    }

    /// Checkout orders never confirmed: one for the plan a pending subscription is on now pays its open first invoice;
    /// any other is left without one (confirming it answers ORDER_VOID).
    private static func attachOrders(_ connection: DatabaseConnection, calendar: BillingCalendar, now: Date, summary: inout Summary) throws {
        let orders = try OrderRepository(connection: connection).withoutInvoice()
        let invoices = InvoiceRepository(connection: connection)
        for order in orders {
            guard let subscription = try SubscriptionRepository(connection: connection).find(id: order.subscriptionID), subscription.status == .pending,
                  order.amount == subscription.plan.price else { continue }
            var invoice = try invoices.period(subscriptionID: subscription.id, index: 0)
            if invoice == nil {
                invoice = try invoices.insert(.period(of: subscription, plan: subscription.plan, index: 0, start: nil, end: nil), now: now,
                                              calendar: calendar)
                summary.invoices += 1
            }
            guard let invoice, invoice.status == .open, invoice.planID == subscription.plan.id else { continue }
            try OrderRepository(connection: connection).attachInvoice(orderID: order.orderID, invoiceID: invoice.id)
            summary.orders += 1
        }
    }
}
