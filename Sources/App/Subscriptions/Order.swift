import Foundation
import Storage

/// A checkout order made by the server before the browser opens the Toss payment window.
struct Order: Sendable {
    var orderID: String
    var subscriptionID: String
    var userID: String
    var amount: Int
    var orderName: String
    var purpose: String
    var status: String
    /// The invoice the order pays (nil only for orders older than invoices, until the backfill).
    var invoiceID: String?

    init(row: Row) {
        orderID = row.string("order_id")
        subscriptionID = row.string("subscription_id")
        userID = row.string("user_id")
        amount = row.int("amount")
        orderName = row.string("order_name")
        purpose = row.string("purpose")
        status = row.string("status")
        invoiceID = row.optionalString("invoice_id")
    }

    /// Toss rule: `[A-Za-z0-9_-]`, 6–64 characters; unguessable.
    static func makeID() -> String { "ord_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "") }
}

struct OrderRepository {
    let connection: DatabaseConnection

    func insert(orderID: String, invoice: Invoice, now: Date) throws {
        try connection.execute(
            """
            INSERT INTO orders (order_id, subscription_id, user_id, invoice_id, amount, order_name, purpose, status, created_at, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, 'FIRST_PERIOD', 'CREATED', ?, ?)
            """,
            [.text(orderID), .text(invoice.subscriptionID), .text(invoice.userID), .text(invoice.id), .int(Int64(invoice.total)),
             .text(invoice.orderName), .int(now.unixSeconds), .int(now.unixSeconds)])
    }

    func find(orderID: String, userID: String) throws -> Order? {
        try connection.queryOne("SELECT * FROM orders WHERE order_id = ? AND user_id = ?", [.text(orderID), .text(userID)]).map(Order.init(row:))
    }

    func find(orderID: String) throws -> Order? {
        try connection.queryOne("SELECT * FROM orders WHERE order_id = ?", [.text(orderID)]).map(Order.init(row:))
    }

    func setStatus(orderID: String, status: String, code: String? = nil, reason: String? = nil, now: Date) throws {
        try connection.execute("UPDATE orders SET status = ?, failure_code = ?, failure_reason = ?, updated_at = ? WHERE order_id = ? AND status <> 'PAID'",
                               [.text(status), .optional(code), .optional(reason), .int(now.unixSeconds), .text(orderID)])
    }

    func withoutInvoice() throws -> [Order] {
        try connection.query("SELECT * FROM orders WHERE invoice_id IS NULL ORDER BY created_at", []).map(Order.init(row:))
    }

    func attachInvoice(orderID: String, invoiceID: String) throws {
        try connection.execute("UPDATE orders SET invoice_id = ? WHERE order_id = ? AND invoice_id IS NULL", [.text(invoiceID), .text(orderID)])
    }
}
