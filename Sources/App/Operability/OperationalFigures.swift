import Storage

/// The counts `/metrics` shows from the database: one read of each table's state.
struct OperationalFigures {
    let connection: DatabaseConnection

    func paymentsByStatus() throws -> [(String, Int)] { try grouped("SELECT status AS k, COUNT(*) AS n FROM payments GROUP BY status ORDER BY status") }
    func subscriptionsByStatus() throws -> [(String, Int)] {
        try grouped("SELECT status AS k, COUNT(*) AS n FROM subscriptions GROUP BY status ORDER BY status")
    }
    func webhookEventsByOutcome() throws -> [(String, Int)] {
        try grouped("SELECT outcome AS k, COUNT(*) AS n FROM webhook_events GROUP BY outcome ORDER BY outcome")
    }
    func invoicesByStatus() throws -> [(String, Int)] { try grouped("SELECT status AS k, COUNT(*) AS n FROM invoices GROUP BY status ORDER BY status") }

    /// Surplus approvals refunded, and those still waiting for their refund.
    func surplusApprovals() throws -> (refunded: Int, awaitingRefund: Int) {
        let byStatus = Dictionary(try grouped("SELECT status AS k, COUNT(*) AS n FROM payments WHERE surplus = 1 GROUP BY status"),
                                  uniquingKeysWith: +)
        return (byStatus["CANCELLED", default: 0], byStatus["COMPLETED", default: 0] + byStatus["PARTIAL_CANCELLED", default: 0])
    }

    func chargeBlockedSubscriptions() throws -> Int { try count("SELECT COUNT(*) AS n FROM subscriptions WHERE charge_blocked IS NOT NULL") }

    func vatMismatches() throws -> Int {
        try count("SELECT COUNT(*) AS n FROM payments p JOIN invoices i ON i.id = p.invoice_id WHERE p.toss_vat IS NOT NULL AND p.surplus = 0 AND p.toss_vat <> i.vat")
    }

    private func grouped(_ sql: String) throws -> [(String, Int)] { try connection.query(sql, []).map { ($0.string("k"), $0.int("n")) } }
    private func count(_ sql: String) throws -> Int { try connection.queryOne(sql, [])?.int("n") ?? 0 }
}
