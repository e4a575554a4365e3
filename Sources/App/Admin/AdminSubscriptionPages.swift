import Billing
import Foundation
import Web

/// `/admin/subscriptions`: the list, and one subscription with its periods, charges, card and timeline.
enum AdminSubscriptionPages {
    static func register(_ table: inout RouteTable) {
        table.page("GET", "/admin/subscriptions", .staff, summary: "Back office: subscriptions", query: AdminAPI.listQuery) { exchange in
            let request = try AdminListRequest.parse(exchange.request.query, list: .subscriptions, zone: exchange.zone)
            return list(exchange, request, try exchange.admin.subscriptions(request))
        }
        table.page("GET", "/admin/subscriptions/{subscription_id}", .staff, summary: "Back office: a subscription") { exchange in
            let detail = try exchange.admin.subscription(id: try exchange.pathParameter("subscription_id"))
            return AdminLayout.page(exchange, title: "구독: \(detail.row.owner.username) · \(detail.row.subscription.plan.name)", section: .subscriptions,
                                    body: show(exchange, detail))
        }
        table.page("POST", "/admin/subscriptions/{subscription_id}/cancel", .staff, summary: "Back office: cancel a subscription now (form)") { exchange in
            let id = try exchange.pathParameter("subscription_id")
            return try AdminLayout.action(back: "/admin/subscriptions/\(id)") {
                let row = try exchange.admin.cancelSubscription(id: id, reason: exchange.request.form["reason"] ?? "")
                return AdminLayout.redirect("/admin/subscriptions/\(row.subscription.id)", notice: "구독을 즉시 해지했습니다. 더 이상 결제되지 않습니다.")
            }
        }
    }

    private static func list(_ exchange: Exchange, _ request: AdminListRequest, _ page: AdminPage<AdminSubscriptionRow>) -> HTTPResponse {
        let e = HTML.escape
        let zone = exchange.zone
        let path = "/admin/subscriptions"
        let filters = AdminLayout.filters(request, path: path, [
            .search(placeholder: "아이디, 이메일, customer_key, 주문번호, paymentKey"),
            .select(name: "status", label: "상태", options: AdminLayout.subscriptionStatuses),
            .select(name: "plan_type", label: "요금제 종류", options: AdminLayout.planTypes),
            .select(name: "cycle", label: "결제 주기", options: AdminLayout.cycles),
            .select(name: "method", label: "결제 수단", options: AdminLayout.methods),
            .dates,
        ], zone: zone)
        let head = AdminLayout.sortHeader("신청일", key: "created_at", request, path: path, zone: zone)
            + AdminLayout.sortHeader("회원", key: "username", request, path: path, zone: zone) + "<th>요금제</th>"
            + AdminLayout.sortHeader("금액", key: "amount", request, path: path, zone: zone, numeric: true)
            + AdminLayout.sortHeader("상태", key: "status", request, path: path, zone: zone)
            + AdminLayout.sortHeader("다음 결제", key: "next_billing_date", request, path: path, zone: zone)
        let rows = page.items.map { row in
            let s = row.subscription
            let next = s.status == .active && s.cancelAtPeriodEnd ? "해지 예정" : s.nextBillingDate.map { Format.dateTime($0, zone) } ?? "-"
            return """
            <tr data-subscription-id="\(e(s.id))"><td><a href="/admin/subscriptions/\(e(s.id))">\(AdminLayout.time(s.createdAt, zone))</a></td>
            <td><a href="/admin/users/\(e(row.owner.id))">\(e(row.owner.username))</a><br><span class="muted">\(e(row.owner.email))</span></td>
            <td>\(e(s.plan.name)) <span class="muted">\(e(CycleNames.label(s.plan.billingCycle)))</span></td><td class="num">\(e(Won.format(s.plan.price)))</td>
            <td>\(AdminLayout.subscriptionBadge(s.status))</td><td>\(e(next))</td></tr>
            """
        }
        let body = """
        \(filters)
        \(AdminLayout.table(id: "subscriptions", head: head, rows: rows, columns: 6))
        \(AdminLayout.pagination(page, request, path: path, zone: zone))
        """
        return AdminLayout.page(exchange, title: "구독", section: .subscriptions, body: body)
    }

    private static func show(_ exchange: Exchange, _ detail: AdminService.SubscriptionDetail) -> String {
        let e = HTML.escape
        let zone = exchange.zone
        let s = detail.row.subscription
        let card = s.cardCompany != nil || s.cardNumber != nil
            ? "\(e(s.cardCompany ?? "카드")) \(e(s.cardNumber ?? ""))\(s.hasCard ? "" : " <span class=\"muted\">(빌링키 없음)</span>")" : "등록된 카드 없음"
        let periods = detail.periods.reversed().map { item in
            let attempts = item.attempts.map { payment in
                "<a href=\"/admin/payments/\(e(payment.id))\">\(AdminLayout.paymentBadge(payment.status))</a>"
            }.joined(separator: " ")
            return """
            <tr data-period="\(item.period.index)"><td>\(item.period.index + 1)회차\(item.upcoming ? " <span class=\"muted\">(예정)</span>" : "")</td>
            <td>\(AdminLayout.time(item.period.start, zone))</td><td>\(AdminLayout.time(item.period.end, zone))</td><td>\(attempts.isEmpty ? "-" : attempts)</td></tr>
            """
        }
        let payments = detail.payments.map { row in
            let p = row.payment
            return """
            <tr data-payment-id="\(e(p.id))"><td><a href="/admin/payments/\(e(p.id))">\(AdminLayout.time(p.createdAt, zone))</a></td>
            <td><code>\(e(p.orderID))</code></td><td>\(p.periodIndex + 1)회차 · \(p.attempt)번째</td><td class="num">\(e(Won.format(p.amount)))</td>
            <td class="num">\(p.refundedAmount > 0 ? e(Won.format(p.refundedAmount)) : "-")</td><td>\(AdminLayout.paymentBadge(p.status))\(p.surplus ? " <span class=\"badge surplus\" title=\"이미 결제된 청구서에 대한 중복 승인: 자동 환불\">중복 승인</span>" : "")</td>
            <td>\(e(p.failureReason ?? ""))</td></tr>
            """
        }
        let invoices = detail.invoices.map { invoice in
            "<tr data-invoice-id=\"\(e(invoice.id))\"><td><code>\(e(invoice.number))</code></td><td>\(invoice.periodIndex + 1)회차</td>"
                + "<td>\(e(invoice.planName))</td><td class=\"num\">\(e(Won.format(invoice.total)))</td><td class=\"num\">\(e(Won.format(invoice.vat)))</td>"
                + "<td><span class=\"badge invoice-\(e(invoice.status.rawValue))\">\(e(invoice.status.koreanLabel))</span></td>"
                + "<td>\(AdminLayout.time(invoice.paidAt, zone))</td></tr>"
        }
        let timeline = detail.timeline.map { event in
            "<li data-kind=\"\(e(event.kind))\">\(AdminLayout.time(event.at, zone)) — \(e(event.text))</li>"
        }.joined()
        let cancelForm = s.status.isFinal ? "" : """
            <h2>즉시 해지</h2>
            <form method="post" action="/admin/subscriptions/\(e(s.id))/cancel" class="form card" id="cancel-subscription-form">
            \(Layout.csrfField(exchange))
            <label class="field">사유 (선택)<input name="reason" maxlength="200"></label>
            <div class="actions"><button type="submit" class="button danger" id="cancel-subscription">지금 해지 (환불 없음)</button></div>
            <p class="muted">결제 금액을 돌려주려면 아래 결제를 열어 환불하세요. 환불하면서 해지할 수도 있습니다.</p>
            </form>
            """
        return """
        <dl class="facts" id="subscription-facts">
        <dt>상태</dt><dd>\(AdminLayout.subscriptionBadge(s.status))\(s.cancelAtPeriodEnd ? " <span class=\"muted\">기간 끝나면 해지</span>" : "")</dd>
        <dt>회원</dt><dd><a href="/admin/users/\(e(detail.row.owner.id))">\(e(detail.row.owner.username))</a> · \(e(detail.row.owner.email))</dd>
        <dt>요금제</dt><dd><a href="/admin/plans/\(e(s.plan.id))">\(e(s.plan.name))</a> · \(e(s.plan.pricePhrase))</dd>
        <dt>customer_key</dt><dd><code>\(e(s.customerKey))</code></dd>
        <dt>결제 카드</dt><dd id="card">\(card)</dd>
        <dt>신청일</dt><dd>\(AdminLayout.time(s.createdAt, zone))</dd>
        <dt>시작일 (기준일)</dt><dd>\(AdminLayout.time(s.anchor, zone))</dd>
        <dt>현재 기간</dt><dd>\(s.startDate == nil ? "-" : "\(s.currentPeriodIndex + 1)회차 · ~ \(AdminLayout.time(s.endDate, zone))")</dd>
        <dt>다음 결제</dt><dd>\(AdminLayout.time(s.status == .active && s.cancelAtPeriodEnd ? nil : s.nextBillingDate, zone))</dd>
        <dt>실패한 재시도</dt><dd>\(s.failedAttempts)회</dd>
        <dt>해지일</dt><dd>\(AdminLayout.time(s.cancelledAt, zone))</dd>
        </dl>
        <h2>결제 기간</h2>
        <p class="muted">기간은 기준일에서 매번 다시 계산합니다 (\(e(CycleNames.label(s.plan.billingCycle))), 월말은 그 달의 마지막 날).</p>
        \(AdminLayout.table(id: "periods", head: "<th>회차</th><th>시작</th><th>끝 (다음 결제일)</th><th>결제</th>", rows: Array(periods), columns: 4,
                            empty: "아직 시작되지 않은 구독입니다."))
        <h2>청구서</h2>
        \(AdminLayout.table(id: "subscription-invoices", head: "<th>번호</th><th>회차</th><th>요금제</th><th class=\"num\">합계</th><th class=\"num\">부가세</th><th>상태</th><th>결제일</th>",
                            rows: invoices, columns: 7, empty: "청구서가 없습니다."))
        <h2>결제 내역</h2>
        \(AdminLayout.table(id: "subscription-payments", head: "<th>일시</th><th>주문번호</th><th>회차</th><th class=\"num\">금액</th><th class=\"num\">환불</th><th>상태</th><th>실패 사유</th>",
                            rows: payments, columns: 7, empty: "결제 내역이 없습니다."))
        <h2>타임라인</h2>
        <ol class="timeline" id="timeline">\(timeline)</ol>
        \(cancelForm)
        """
    }
}
