import Billing
import Foundation
import Storage
import Web

/// One charge attempt.
struct Payment: Sendable {
    var id: String
    var subscriptionID: String
    var userID: String
    var paymentType: String
    var amount: Int
    var status: PaymentStatus
    var orderID: String
    var orderName: String
    var paymentKey: String?
    var periodIndex: Int
    var attempt: Int
    var paymentMethod: String?
    var paidAt: Date?
    var failureCode: String?
    var failureReason: String?
    var refundedAmount: Int
    var receiptURL: String?
    var createdAt: Date
    var updatedAt: Date
    /// The invoice this payment pays (nil only for rows older than invoices that the backfill has not reached).
    var invoiceID: String?
    /// An approval Toss holds for an invoice that was already settled: not the invoice's payment, refunded by gudok.
    var surplus: Bool
    /// Toss's own VAT split of the payment, kept to compare with the invoice's.
    var tossVAT: Int?
    var tossSuppliedAmount: Int?

    init(row: Row) throws {
        id = row.string("id")
        subscriptionID = row.string("subscription_id")
        userID = row.string("user_id")
        paymentType = row.string("payment_type")
        amount = row.int("amount")
        status = try row.word("status")
        orderID = row.string("order_id")
        orderName = row.string("order_name")
        paymentKey = row.optionalString("payment_key")
        periodIndex = row.int("period_index")
        attempt = row.int("attempt")
        paymentMethod = row.optionalString("payment_method")
        paidAt = row.optionalInt("paid_at").map(Date.init(unixSeconds:))
        failureCode = row.optionalString("failure_code")
        failureReason = row.optionalString("failure_reason")
        refundedAmount = row.int("refunded_amount")
        receiptURL = row.optionalString("receipt_url")
        createdAt = Date(unixSeconds: row.int("created_at"))
        updatedAt = Date(unixSeconds: row.int("updated_at"))
        invoiceID = row.optionalString("invoice_id")
        surplus = row.bool("surplus")
        tossVAT = row.optionalInt("toss_vat")
        tossSuppliedAmount = row.optionalInt("toss_supplied_amount")
    }

    /// A renewal charge made with the billing key (its order id is deterministic); otherwise a checkout payment.
    var isBillingCharge: Bool { orderID.hasPrefix("sub-") }
    /// A mid-period plan change's charge (`ONE_TIME`, order id `chg-…`): no period, no dunning.
    var isChange: Bool { paymentType == Payment.oneTime }

    static let oneTime = "ONE_TIME"

    func json(zone: TimeZone) -> JSON {
        ["id": .string(id), "subscription_id": .string(subscriptionID), "payment_type": .string(paymentType), "amount": .int(amount),
         "status": .string(status.rawValue), "order_id": .string(orderID), "payment_method": .optional(paymentMethod),
         "paid_at": paidAt.map { .string(RFC3339.format($0, in: zone)) } ?? .null, "failure_code": .optional(failureCode),
         "failure_reason": .optional(failureReason), "refunded_amount": .int(refundedAmount), "receipt_url": .optional(receiptURL),
         "created_at": .string(RFC3339.format(createdAt, in: zone)), "invoice_id": .optional(invoiceID)]
    }
}

struct PaymentRepository {
    let connection: DatabaseConnection

    func find(orderID: String) throws -> Payment? {
        try connection.queryOne("SELECT * FROM payments WHERE order_id = ?", [.text(orderID)]).map(Payment.init(row:))
    }

    /// The payment, read with its subscription's row locked on PostgreSQL (settlements of one subscription take turns; a
    /// SQLite transaction already excludes other writers). Every write after it is conditional, so a payment read just
    /// before a concurrent settlement committed only makes those writes find nothing to do.
    func findLockingSubscription(orderID: String) throws -> Payment? {
        switch connection.dialect {
        case .postgres:
            return try connection.queryOne(
                "SELECT p.* FROM payments p JOIN subscriptions s ON s.id = p.subscription_id WHERE p.order_id = ? FOR UPDATE OF s",
                [.text(orderID)]).map(Payment.init(row:))
        case .sqlite:
            return try find(orderID: orderID)
        }
    }

    func find(id: String) throws -> Payment? {
        guard let canonical = Identifier.canonical(id) else { return nil }
        return try connection.queryOne("SELECT * FROM payments WHERE id = ?", [.text(canonical)]).map(Payment.init(row:))
    }

    func find(paymentKey: String) throws -> Payment? {
        try connection.queryOne("SELECT * FROM payments WHERE payment_key = ?", [.text(paymentKey)]).map(Payment.init(row:))
    }

    func forUser(_ userID: String) throws -> [Payment] {
        try connection.query("SELECT * FROM payments WHERE user_id = ? ORDER BY created_at DESC, id DESC", [.text(userID)]).map(Payment.init(row:))
    }

    func forSubscription(_ subscriptionID: String) throws -> [Payment] {
        try connection.query("SELECT * FROM payments WHERE subscription_id = ? ORDER BY created_at DESC, attempt DESC", [.text(subscriptionID)])
            .map(Payment.init(row:))
    }

    func attempts(subscriptionID: String, periodIndex: Int) throws -> [Payment] {
        try connection.query("SELECT * FROM payments WHERE subscription_id = ? AND period_index = ? ORDER BY attempt",
                             [.text(subscriptionID), .int(Int64(periodIndex))]).map(Payment.init(row:))
    }

    func pending(olderThan cutoff: Date, limit: Int) throws -> [Payment] {
        try connection.query("SELECT * FROM payments WHERE status = 'PENDING' AND created_at <= ? ORDER BY created_at LIMIT ?",
                             [.int(cutoff.unixSeconds), .int(Int64(limit))]).map(Payment.init(row:))
    }

    /// Records an attempt as PENDING before Toss is called. Throws a unique violation if this attempt already exists, or if
    /// another payment of the same invoice is in flight.
    @discardableResult
    func insertPending(subscription: Subscription, invoiceID: String, orderID: String, orderName: String, amount: Int, periodIndex: Int,
                       attempt: Int, paymentKey: String?, type: String = "SUBSCRIPTION", now: Date) throws -> String {
        let id = Identifier.make()
        try connection.execute(
            """
            INSERT INTO payments (id, subscription_id, user_id, invoice_id, payment_type, amount, status, order_id, order_name, payment_key,
            period_index, attempt, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'PENDING', ?, ?, ?, ?, ?, ?, ?)
            """,
            [.text(id), .text(subscription.id), .text(subscription.userID), .text(invoiceID), .text(type), .int(Int64(amount)), .text(orderID), .text(orderName),
             .optional(paymentKey), .int(Int64(periodIndex)), .int(Int64(attempt)), .int(now.unixSeconds), .int(now.unixSeconds)])
        return id
    }

    /// The invoice's payment still waiting for Toss's answer, if any.
    func inFlight(invoiceID: String) throws -> Payment? {
        try connection.queryOne("SELECT * FROM payments WHERE invoice_id = ? AND status = 'PENDING' AND surplus = 0", [.text(invoiceID)])
            .map(Payment.init(row:))
    }

    /// Toss approved it: PENDING (or a FAILED that Toss in fact approved) → COMPLETED. `surplus` marks an approval that does
    /// not pay its invoice. False if it was settled as approved before.
    func complete(orderID: String, paymentKey: String, method: String?, paidAt: Date, receiptURL: String?, transactionKey: String?,
                  vat: Int?, suppliedAmount: Int?, surplus: Bool, now: Date) throws -> Bool {
        try connection.execute(
            """
            UPDATE payments SET status = 'COMPLETED', payment_key = ?, payment_method = ?, paid_at = ?, receipt_url = ?, last_transaction_key = ?,
            toss_status = 'DONE', toss_vat = ?, toss_supplied_amount = ?, surplus = ?, failure_code = NULL, failure_reason = NULL, updated_at = ?
            WHERE order_id = ? AND status IN ('PENDING', 'FAILED')
            """,
            [.text(paymentKey), .optional(method), .int(paidAt.unixSeconds), .optional(receiptURL), .optional(transactionKey), .optional(vat),
             .optional(suppliedAmount), .bool(surplus), .int(now.unixSeconds), .text(orderID)]) == 1
    }

    func fail(orderID: String, code: String, reason: String, paymentKey: String? = nil, now: Date) throws -> Bool {
        try connection.execute(
            """
            UPDATE payments SET status = 'FAILED', failure_code = ?, failure_reason = ?, payment_key = COALESCE(?, payment_key), updated_at = ?
            WHERE order_id = ? AND status = 'PENDING'
            """,
            [.text(code), .text(reason), .optional(paymentKey), .int(now.unixSeconds), .text(orderID)]) == 1
    }

    /// (subscription, period) pairs whose payments were made before invoices existed, oldest first.
    func periodsWithoutInvoice() throws -> [(subscriptionID: String, periodIndex: Int, firstAttemptAt: Date)] {
        try connection.query(
            """
            SELECT subscription_id, period_index, MIN(created_at) AS first_at FROM payments WHERE invoice_id IS NULL
            GROUP BY subscription_id, period_index ORDER BY first_at, subscription_id, period_index
            """, []).map { ($0.string("subscription_id"), $0.int("period_index"), Date(unixSeconds: $0.int("first_at"))) }
    }

    func attachInvoice(paymentID: String, invoiceID: String, surplus: Bool) throws {
        try connection.execute("UPDATE payments SET invoice_id = ?, surplus = ? WHERE id = ? AND invoice_id IS NULL",
                               [.text(invoiceID), .bool(surplus), .text(paymentID)])
    }

    /// Approvals gudok must give back that are not refunded yet (the refund call failed or never ran).
    func surplusToRefund(limit: Int) throws -> [Payment] {
        try connection.query("SELECT * FROM payments WHERE surplus = 1 AND status IN ('COMPLETED', 'PARTIAL_CANCELLED') ORDER BY updated_at LIMIT ?",
                             [.int(Int64(limit))]).map(Payment.init(row:))
    }

    /// A status Toss reported (refunds, mostly), applied only if the payment is still as `current` read it.
    func moveForward(_ current: Payment, to status: PaymentStatus, refunded: Int, tossStatus: String, now: Date) throws -> Bool {
        try connection.execute(
            """
            UPDATE payments SET status = ?, refunded_amount = ?, toss_status = ?, updated_at = ?
            WHERE id = ? AND status = ? AND refunded_amount = ?
            """,
            [.text(status.rawValue), .int(Int64(refunded)), .text(tossStatus), .int(now.unixSeconds), .text(current.id), .text(current.status.rawValue),
             .int(Int64(current.refundedAmount))]) == 1
    }

    /// Records a refund Toss confirmed, forward only (a webhook may have recorded it first).
    func recordRefund(id: String, refunded: Int, tossStatus: String, transactionKey: String?, now: Date) throws -> Bool {
        try connection.execute(
            """
            UPDATE payments SET status = CASE WHEN ? >= amount THEN 'CANCELLED' WHEN ? > 0 THEN 'PARTIAL_CANCELLED' ELSE status END,
            refunded_amount = ?, toss_status = ?, last_transaction_key = COALESCE(?, last_transaction_key), updated_at = ?
            WHERE id = ? AND refunded_amount < ?
            """,
            [.int(Int64(refunded)), .int(Int64(refunded)), .int(Int64(refunded)), .text(tossStatus), .optional(transactionKey), .int(now.unixSeconds),
             .text(id), .int(Int64(refunded))]) == 1
    }

}
