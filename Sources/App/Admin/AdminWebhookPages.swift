import Foundation
import Web

/// `/admin/webhook-events`: every Toss webhook received, with what processing made of it.
enum AdminWebhookPages {
    static let outcomes = ["APPLIED", "UNCHANGED", "DUPLICATE", "UNKNOWN_PAYMENT", "IGNORED", "DEFERRED", "RECEIVED"]
    static let types = ["PAYMENT_STATUS_CHANGED", "BILLING_DELETED", "DEPOSIT_CALLBACK", "CANCEL_STATUS_CHANGED", "UNKNOWN"]

    static func register(_ table: inout RouteTable) {
        table.page("GET", "/admin/webhook-events", .staff, summary: "Back office: webhook events", query: ["q", "type", "status", "from", "to", "sort", "page"]) { exchange in
            let request = try AdminListRequest.parse(exchange.request.query, list: .webhookEvents, zone: exchange.zone)
            return list(exchange, request, try exchange.admin.webhookEvents(request))
        }
        table.page("GET", "/admin/webhook-events/{event_id}", .staff, summary: "Back office: a webhook event") { exchange in
            let event = try exchange.admin.webhookEvent(id: try exchange.pathParameter("event_id"))
            return AdminLayout.page(exchange, title: "웹훅: \(event.eventType)", section: .webhooks, body: show(exchange, event))
        }
    }

    private static func list(_ exchange: Exchange, _ request: AdminListRequest, _ page: AdminPage<AdminWebhookEventRow>) -> HTTPResponse {
        let e = HTML.escape
        let zone = exchange.zone
        let path = "/admin/webhook-events"
        let filters = AdminLayout.filters(request, path: path, [
            .search(placeholder: "transmission id, paymentKey"),
            .select(name: "type", label: "유형", options: types.map { ($0, $0) }),
            .select(name: "status", label: "처리 결과", options: outcomes.map { ($0, $0) }),
            .dates,
        ], zone: zone)
        let head = AdminLayout.sortHeader("수신 시각", key: "received_at", request, path: path, zone: zone)
            + AdminLayout.sortHeader("유형", key: "event_type", request, path: path, zone: zone) + "<th>transmission id</th><th>paymentKey</th>"
            + AdminLayout.sortHeader("결과", key: "outcome", request, path: path, zone: zone) + "<th>상세</th>"
        let rows = page.items.map { event in
            """
            <tr data-event-id="\(e(event.id))"><td><a href="/admin/webhook-events/\(e(event.id))">\(AdminLayout.time(event.receivedAt, zone))</a></td>
            <td>\(e(event.eventType))</td><td><code>\(e(event.transmissionID ?? "-"))</code></td><td><code>\(e(event.paymentKey ?? "-"))</code></td>
            <td>\(AdminLayout.badge(outcomeStyle(event.outcome), event.outcome))</td><td>\(e(event.detail ?? ""))</td></tr>
            """
        }
        let body = """
        \(filters)
        \(AdminLayout.table(id: "webhook-events", head: head, rows: rows, columns: 6, empty: "받은 웹훅이 없습니다."))
        \(AdminLayout.pagination(page, request, path: path, zone: zone))
        """
        return AdminLayout.page(exchange, title: "웹훅 이벤트", section: .webhooks, body: body)
    }

    private static func show(_ exchange: Exchange, _ event: AdminWebhookEventRow) -> String {
        let e = HTML.escape
        let payload = event.payload.map { text in (try? JSON.parse(text)).map(pretty) ?? text } ?? ""
        return """
        <dl class="facts" id="webhook-facts">
        <dt>유형</dt><dd>\(e(event.eventType))</dd>
        <dt>수신 시각</dt><dd>\(AdminLayout.time(event.receivedAt, exchange.zone))</dd>
        <dt>transmission id</dt><dd><code>\(e(event.transmissionID ?? "-"))</code></dd>
        <dt>paymentKey</dt><dd><code>\(e(event.paymentKey ?? "-"))</code></dd>
        <dt>처리 결과</dt><dd>\(AdminLayout.badge(outcomeStyle(event.outcome), event.outcome)) \(e(event.detail ?? ""))</dd>
        </dl>
        <h2>본문</h2>
        <pre class="card" id="webhook-payload">\(e(payload))</pre>
        """
    }

    /// Badge colours: applied green, deferred yellow, the rest neutral.
    private static func outcomeStyle(_ outcome: String) -> String {
        switch outcome {
        case "APPLIED": "COMPLETED"
        case "DEFERRED": "PAST_DUE"
        case "UNKNOWN_PAYMENT": "FAILED"
        default: "CANCELLED"
        }
    }

    /// Indented JSON for reading.
    static func pretty(_ value: JSON) -> String {
        func render(_ value: JSON, _ indent: String) -> String {
            let inner = indent + "  "
            switch value {
            case .array(let items) where !items.isEmpty:
                return "[\n" + items.map { inner + render($0, inner) }.joined(separator: ",\n") + "\n\(indent)]"
            case .object(let object) where !object.entries.isEmpty:
                return "{\n" + object.entries.map { inner + JSON.string($0.key).serializedString() + ": " + render($0.value, inner) }
                    .joined(separator: ",\n") + "\n\(indent)}"
            default:
                return value.serializedString()
            }
        }
        return render(value, "")
    }
}
