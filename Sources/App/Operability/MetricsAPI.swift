import Crypto
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
            let figures = OperationalFigures(connection: connection)
            var out = ""
            func family(_ name: String, _ help: String, label: String, _ rows: [(String, Int)]) {
                out += "# HELP \(name) \(help)\n# TYPE \(name) gauge\n"
                for (key, value) in rows { out += "\(name){\(label)=\"\(Metrics.escape(key))\"} \(value)\n" }
            }
            func gauge(_ name: String, _ help: String, _ value: Int) {
                out += "# HELP \(name) \(help)\n# TYPE \(name) gauge\n\(name) \(value)\n"
            }
            let payments = try figures.paymentsByStatus()
            family("gudok_payments", "Payments (charge attempts) by status; charges by outcome.", label: "status", payments)
            gauge("gudok_pending_payments", "Payments waiting for Toss's answer or reconcile.", payments.first { $0.0 == "PENDING" }?.1 ?? 0)
            family("gudok_subscriptions", "Subscriptions by status.", label: "status", try figures.subscriptionsByStatus())
            family("gudok_webhook_events", "Webhook events by outcome.", label: "outcome", try figures.webhookEventsByOutcome())
            family("gudok_invoices", "Invoices by status.", label: "status", try figures.invoicesByStatus())
            let surplus = try figures.surplusApprovals()
            family("gudok_surplus_approvals", "Approvals Toss held for an invoice already settled: refunded by gudok, or waiting for the refund.",
                   label: "state", [("refunded", surplus.refunded), ("awaiting_refund", surplus.awaitingRefund)])
            gauge("gudok_subscriptions_charge_blocked", "Subscriptions whose charging is stopped by an operator-side fault (billing key unreadable).",
                  try figures.chargeBlockedSubscriptions())
            gauge("gudok_payments_vat_mismatch", "Payments whose VAT at Toss differs from their invoice's.", try figures.vatMismatches())
            gauge("gudok_db_pool_idle_connections", "Idle database connections in this responder's pool.", exchange.app.database.idleConnections)
            return out
        }
    }
}
