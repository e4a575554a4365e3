import Foundation
import Storage
import Web

/// `GET /metrics`: Prometheus text; only from loopback or with `Authorization: Bearer $GUDOK_METRICS_TOKEN`.
enum MetricsAPI {
    static func register(_ table: inout RouteTable) {
        table.api("GET", "/metrics", summary: "Prometheus metrics", doc: APIDoc(responses: [(200, nil)], responseType: "text/plain")) { exchange in
            guard isAllowed(exchange) else { throw HTTPError(403, code: "FORBIDDEN", message: "메트릭은 내부에서만 볼 수 있습니다.") }
            var text = exchange.app.metrics.renderRequests()
            text += try databaseGauges(exchange)
            return .text(text, contentType: "text/plain; version=0.0.4; charset=utf-8")
        }
    }

    static func isAllowed(_ exchange: Exchange) -> Bool {
        let address = exchange.request.remoteAddress
        if address == "127.0.0.1" || address == "::1" || address.hasPrefix("127.") || address == "unix:" { return true }
        guard let token = exchange.app.configuration.metricsToken, !token.isEmpty,
              let header = exchange.request.header("authorization"), header.hasPrefix("Bearer ") else { return false }
        return Crypto.constantTimeEquals(Array(header.dropFirst(7).utf8), Array(token.utf8))
    }

    private static func databaseGauges(_ exchange: Exchange) throws -> String {
        try exchange.withDatabase { connection in
            var out = "# HELP gudok_payments Payments (charge attempts) by status; charges by outcome.\n# TYPE gudok_payments gauge\n"
            for row in try connection.query("SELECT status, COUNT(*) AS n FROM payments GROUP BY status ORDER BY status", []) {
                out += "gudok_payments{status=\"\(Metrics.escape(row.string("status")))\"} \(row.int("n"))\n"
            }
            let pending = try connection.queryOne("SELECT COUNT(*) AS n FROM payments WHERE status = 'PENDING'", [])?.int("n") ?? 0
            out += "# HELP gudok_pending_payments Payments waiting for Toss's answer or reconcile.\n# TYPE gudok_pending_payments gauge\n"
            out += "gudok_pending_payments \(pending)\n"
            out += "# HELP gudok_subscriptions Subscriptions by status.\n# TYPE gudok_subscriptions gauge\n"
            for row in try connection.query("SELECT status, COUNT(*) AS n FROM subscriptions GROUP BY status ORDER BY status", []) {
                out += "gudok_subscriptions{status=\"\(Metrics.escape(row.string("status")))\"} \(row.int("n"))\n"
            }
            out += "# HELP gudok_webhook_events Webhook events by outcome.\n# TYPE gudok_webhook_events gauge\n"
            for row in try connection.query("SELECT outcome, COUNT(*) AS n FROM webhook_events GROUP BY outcome ORDER BY outcome", []) {
                out += "gudok_webhook_events{outcome=\"\(Metrics.escape(row.string("outcome")))\"} \(row.int("n"))\n"
            }
            out += "# HELP gudok_invoices Invoices by status.\n# TYPE gudok_invoices gauge\n"
            for row in try connection.query("SELECT status, COUNT(*) AS n FROM invoices GROUP BY status ORDER BY status", []) {
                out += "gudok_invoices{status=\"\(Metrics.escape(row.string("status")))\"} \(row.int("n"))\n"
            }
            let surplus = try connection.query("SELECT status, COUNT(*) AS n, COALESCE(SUM(amount), 0) AS won FROM payments WHERE surplus = 1 GROUP BY status", [])
            let refunded = surplus.filter { $0.string("status") == "CANCELLED" }
            let waiting = surplus.filter { $0.string("status") == "COMPLETED" || $0.string("status") == "PARTIAL_CANCELLED" }
            out += "# HELP gudok_surplus_approvals Approvals Toss held for an invoice already settled: refunded by gudok, or waiting for the refund.\n"
            out += "# TYPE gudok_surplus_approvals gauge\n"
            out += "gudok_surplus_approvals{state=\"refunded\"} \(refunded.reduce(0) { $0 + $1.int("n") })\n"
            out += "gudok_surplus_approvals{state=\"awaiting_refund\"} \(waiting.reduce(0) { $0 + $1.int("n") })\n"
            let blocked = try connection.queryOne("SELECT COUNT(*) AS n FROM subscriptions WHERE charge_blocked IS NOT NULL", [])?.int("n") ?? 0
            out += "# HELP gudok_subscriptions_charge_blocked Subscriptions whose charging is stopped by an operator-side fault (billing key unreadable).\n"
            out += "# TYPE gudok_subscriptions_charge_blocked gauge\ngudok_subscriptions_charge_blocked \(blocked)\n"
            let mismatched = try connection.queryOne(
                "SELECT COUNT(*) AS n FROM payments p JOIN invoices i ON i.id = p.invoice_id WHERE p.toss_vat IS NOT NULL AND p.surplus = 0 AND p.toss_vat <> i.vat",
                [])?.int("n") ?? 0
            out += "# HELP gudok_payments_vat_mismatch Payments whose VAT at Toss differs from their invoice's.\n"
            out += "# TYPE gudok_payments_vat_mismatch gauge\ngudok_payments_vat_mismatch \(mismatched)\n"
            out += "# HELP gudok_db_pool_idle_connections Idle database connections in this responder's pool.\n# TYPE gudok_db_pool_idle_connections gauge\n"
            out += "gudok_db_pool_idle_connections \(exchange.app.database.idleConnections)\n"
            return out
        }
    }
}
