import Billing
import Foundation
import Storage

/// The only writer of `invoices`. Every change of status is compare-and-set on the status it expects.
struct InvoiceRepository {
    let connection: DatabaseConnection

    /// What a new invoice freezes: the plan as it is now, the period, the lines.
    struct Draft {
        var subscriptionID: String
        var userID: String
        var kind: Invoice.Kind = .period
        var periodIndex: Int
        var plan: Plan
        var periodStart: Date?
        var periodEnd: Date?
        var lines: [InvoiceLine]
        /// How much of the subscription's carried balance the lines take (same sign as the balance); the maker moves the
        /// balance by minus this in the invoice's transaction.
        var carried = 0
        /// The balance the lines were priced from (the compare-and-set value when `carried` is not 0).
        var balanceBefore = 0
        /// The coupon whose DISCOUNT line this invoice carries (counts one of its periods while the invoice is not void).
        var couponID: String?

        /// A period of `plan`: one PLAN line at its price.
        static func period(of subscription: Subscription, plan: Plan, index: Int, start: Date?, end: Date?) -> Draft {
            Draft(subscriptionID: subscription.id, userID: subscription.userID, periodIndex: index, plan: plan, periodStart: start, periodEnd: end,
                  lines: [InvoiceLine(kind: .plan, description: "\(plan.name) \(CycleNames.label(plan.billingCycle)) 구독", amount: plan.price)])
        }
    }

    func find(id: String) throws -> Invoice? {
        guard let canonical = Identifier.canonical(id) else { return nil }
        return try connection.queryOne("SELECT * FROM invoices WHERE id = ?", [.text(canonical)]).map(Invoice.init(row:))
    }

    /// A user's invoice; another user's id answers nil (404, never 403).
    func find(id: String, userID: String) throws -> Invoice? {
        guard let canonical = Identifier.canonical(id) else { return nil }
        return try connection.queryOne("SELECT * FROM invoices WHERE id = ? AND user_id = ?", [.text(canonical), .text(userID)]).map(Invoice.init(row:))
    }

    func forUser(_ userID: String, limit: Int = 500) throws -> [Invoice] {
        // Through the user's subscriptions (indexed by user), so invoices need no index of their own by user.
        try connection.query(
            """
            SELECT i.* FROM invoices i JOIN subscriptions s ON s.id = i.subscription_id WHERE s.user_id = ?
            ORDER BY i.created_at DESC, i.sequence DESC LIMIT ?
            """, [.text(userID), .int(Int64(limit))]).map(Invoice.init(row:))
    }

    func forSubscription(_ subscriptionID: String) throws -> [Invoice] {
        try connection.query("SELECT * FROM invoices WHERE subscription_id = ? ORDER BY period_index DESC, sequence DESC", [.text(subscriptionID)])
            .map(Invoice.init(row:))
    }

    /// The period's invoice that is not void (at most one, by the unique index).
    func period(subscriptionID: String, index: Int) throws -> Invoice? {
        try connection.queryOne("SELECT * FROM invoices WHERE subscription_id = ? AND period_index = ? AND kind = 'PERIOD' AND voided_at IS NULL",
                                [.text(subscriptionID), .int(Int64(index))]).map(Invoice.init(row:))
    }

    /// How many mid-period change invoices the subscription has had (void ones included).
    func changeCount(subscriptionID: String) throws -> Int {
        try connection.queryOne("SELECT COUNT(*) AS n FROM invoices WHERE subscription_id = ? AND kind = 'CHANGE'", [.text(subscriptionID)])?.int("n") ?? 0
    }

    /// Inserts a new invoice with the next number (`GD-2026-000123`: the year of issue, then a sequence shared by every year,
    /// zero-padded to six digits), in one statement. Call inside a transaction: on SQLite the number is read
    /// from the table (writers are serialized), on PostgreSQL it comes from a sequence (a rolled-back insert leaves a gap).
    /// A unique violation means another writer made this period's invoice first.
    func insert(_ draft: Draft, now: Date, calendar: BillingCalendar, status: InvoiceStatus = .open, paidPaymentID: String? = nil,
                paidAt: Date? = nil) throws -> Invoice {
        let next: String
        let number: String
        switch connection.dialect {
        case .postgres:
            next = "SELECT nextval('invoice_sequence') AS v"
            number = "CASE WHEN n.v < 1000000 THEN lpad(n.v::text, 6, '0') ELSE n.v::text END"
        case .sqlite:
            // Numbers follow the table's rowid, which SQLite keeps in order and reads at once; no index of their own.
            next = "SELECT COALESCE(MAX(rowid), 0) + 1 AS v FROM invoices"
            number = "printf('%06d', n.v)"
        }
        let totals = InvoiceTotals(lines: draft.lines)
        let id = Identifier.make()
        let rows = try connection.query(
            """
            WITH n AS (\(next))
            INSERT INTO invoices (id, sequence, number, subscription_id, user_id, kind, period_index, plan_id, plan_name, plan_price, billing_cycle,
            period_start, period_end, lines, subtotal, discount, total, supply_amount, vat, status, voided_at, paid_payment_id, paid_at, created_at,
            updated_at, coupon_id)
            SELECT ?, n.v, ? || \(number), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? FROM n RETURNING number
            """,
            [.text(id), .text("GD-\(calendar.year(of: now))-"), .text(draft.subscriptionID), .text(draft.userID),
             .text(draft.kind.rawValue), .int(Int64(draft.periodIndex)), .text(draft.plan.id), .text(draft.plan.name), .int(Int64(draft.plan.price)),
             .text(draft.plan.billingCycle), .optional(draft.periodStart.map { Int($0.unixSeconds) }),
             .optional(draft.periodEnd.map { Int($0.unixSeconds) }), .text(Invoice.encodeLines(draft.lines)), .int(Int64(totals.subtotal)),
             .int(Int64(totals.discount)), .int(Int64(totals.total)), .int(Int64(totals.supplyAmount)), .int(Int64(totals.vat)),
             .text(status.rawValue), .optional(status == .void ? Int(now.unixSeconds) : nil), .optional(paidPaymentID),
             .optional(paidAt.map { Int($0.unixSeconds) }), .int(now.unixSeconds),
             .int(now.unixSeconds), .optional(draft.couponID)])
        guard let number = rows.first?.string("number") else { throw DatabaseError(kind: .other, message: "an invoice insert returned no row") }
        return Invoice(id: id, number: number, draft: draft, totals: totals, status: status, paidPaymentID: paidPaymentID, paidAt: paidAt,
                       createdAt: now)
    }

    /// OPEN → PAID by `paymentID`. False: the invoice was paid by someone else, voided or given up on first. Period dates
    /// unknown when the invoice was made (the first period starts when it is paid) are filled in.
    func markPaid(id: String, paymentID: String, paidAt: Date, periodStart: Date?, periodEnd: Date?, now: Date) throws -> Bool {
        try connection.execute(
            """
            UPDATE invoices SET status = 'PAID', paid_payment_id = ?, paid_at = ?, period_start = COALESCE(period_start, ?),
            period_end = COALESCE(period_end, ?), version = version + 1, updated_at = ? WHERE id = ? AND status = 'OPEN'
            """,
            [.text(paymentID), .int(paidAt.unixSeconds), .optional(periodStart.map { Int($0.unixSeconds) }),
             .optional(periodEnd.map { Int($0.unixSeconds) }), .int(now.unixSeconds), .text(id)]) == 1
    }

    /// OPEN → VOID for one invoice (the customer chose another plan before paying).
    func void(id: String, now: Date) throws -> Bool {
        try connection.execute("UPDATE invoices SET status = 'VOID', voided_at = ?, version = version + 1, updated_at = ? WHERE id = ? AND status = 'OPEN'",
                               [.int(now.unixSeconds), .int(now.unixSeconds), .text(id)]) == 1
    }

    /// Every OPEN invoice of a subscription → `status` (VOID when it ended, UNCOLLECTIBLE when dunning gave up).
    @discardableResult
    func closeOpen(subscriptionID: String, as status: InvoiceStatus, now: Date) throws -> Int {
        try connection.execute(
            """
            UPDATE invoices SET status = ?, voided_at = ?, version = version + 1, updated_at = ? WHERE subscription_id = ? AND status = 'OPEN'
            """,
            [.text(status.rawValue), .optional(status == .void ? Int(now.unixSeconds) : nil), .int(now.unixSeconds), .text(subscriptionID)])
    }
}
