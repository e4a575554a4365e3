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
            out += "# HELP gudok_db_pool_idle_connections Idle database connections in this responder's pool.\n# TYPE gudok_db_pool_idle_connections gauge\n"
            out += "gudok_db_pool_idle_connections \(exchange.app.database.idleConnections)\n"
            return out
        }
    }
}
