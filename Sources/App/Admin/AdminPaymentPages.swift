import Billing
import Foundation
import Web

/// `/admin/payments`: the list, one payment with its Toss fields, and the refund form.
enum AdminPaymentPages {
    static func register(_ table: inout RouteTable) {
        table.page("GET", "/admin/payments", .staff, summary: "Back office: payments", query: AdminAPI.listQuery) { exchange in
            let request = try AdminListRequest.parse(exchange.request.query, list: .payments, zone: exchange.zone)
            return list(exchange, request, try exchange.admin.payments(request))
        }
        table.page("GET", "/admin/payments/{payment_id}", .staff, summary: "Back office: a payment") { exchange in
            let detail = try exchange.admin.payment(id: try exchange.pathParameter("payment_id"))
            return AdminLayout.page(exchange, title: "결제: \(detail.row.payment.orderID)", section: .payments, body: show(exchange, detail))
        }
        table.page("POST", "/admin/payments/{payment_id}/refund", .staff, summary: "Back office: refund a payment (form)") { exchange in
            let id = try exchange.pathParameter("payment_id")
            let back = "/admin/payments/\(id)"
            return try AdminLayout.action(back: back) {
                let form = exchange.request.form
                var command = AdminService.RefundCommand(amount: nil, reason: form["reason"] ?? "")
                if let text = form["amount"]?.replacingOccurrences(of: ",", with: "").trimmingCharacters(in: .whitespaces), !text.isEmpty {
                    guard text.utf8.count <= 12, let amount = Int(text) else {
                        throw AdminError.invalidField(name: "amount", message: "환불 금액은 숫자로 입력하세요.")
                    }
                    command.amount = amount
                }
                command.expectedRefunded = form["expected_refunded_amount"].flatMap { Int($0) }
                command.cancelSubscription = form["cancel_subscription"] != nil
                let result = try exchange.admin.refund(paymentID: id, command)
                var notice = "\(Won.format(result.refunded))을 환불했습니다. 남은 환불 가능 금액: \(Won.format(RefundRules.balance(of: result.payment)))."
                if result.subscriptionCancelled { notice += " 구독도 해지했습니다." }
                return AdminLayout.redirect(back, notice: notice)
            }
        }
    }

    private static func list(_ exchange: Exchange, _ request: AdminListRequest, _ page: AdminPage<AdminPaymentRow>) -> HTTPResponse {
        let e = HTML.escape
        let zone = exchange.zone
        let path = "/admin/payments"
        let filters = AdminLayout.filters(request, path: path, [
            .search(placeholder: "아이디, 이메일, customer_key, 주문번호, paymentKey"),
            .select(name: "status", label: "상태", options: AdminLayout.paymentStatuses),
            .select(name: "method", label: "결제 수단", options: AdminLayout.methods),
            .select(name: "plan_type", label: "요금제 종류", options: AdminLayout.planTypes),
            .select(name: "cycle", label: "결제 주기", options: AdminLayout.cycles),
            .dates,
        ], zone: zone)
        let head = AdminLayout.sortHeader("일시", key: "created_at", request, path: path, zone: zone) + "<th>주문번호</th><th>회원</th><th>요금제</th>"
            + AdminLayout.sortHeader("금액", key: "amount", request, path: path, zone: zone, numeric: true)
            + AdminLayout.sortHeader("환불", key: "refunded_amount", request, path: path, zone: zone, numeric: true)
            + AdminLayout.sortHeader("상태", key: "status", request, path: path, zone: zone) + "<th>수단</th>"
            + AdminLayout.sortHeader("결제일", key: "paid_at", request, path: path, zone: zone)
        let rows = page.items.map { row in
            let p = row.payment
            return """
            <tr data-payment-id="\(e(p.id))" data-order-id="\(e(p.orderID))"><td>\(AdminLayout.time(p.createdAt, zone))</td>
            <td><a href="/admin/payments/\(e(p.id))"><code>\(e(p.orderID))</code></a></td>
            <td><a href="/admin/users/\(e(row.owner.id))">\(e(row.owner.username))</a></td><td>\(e(row.planName))</td>
            <td class="num">\(e(Won.format(p.amount)))</td><td class="num">\(p.refundedAmount > 0 ? e(Won.format(p.refundedAmount)) : "-")</td>
            <td>\(AdminLayout.paymentBadge(p.status))</td><td>\(e(p.paymentMethod ?? "-"))</td><td>\(AdminLayout.time(p.paidAt, zone))</td></tr>
            """
        }
        let body = """
        \(filters)
        \(AdminLayout.table(id: "payments", head: head, rows: rows, columns: 9))
        \(AdminLayout.pagination(page, request, path: path, zone: zone))
        """
        return AdminLayout.page(exchange, title: "결제", section: .payments, body: body)
    }

    private static func show(_ exchange: Exchange, _ detail: AdminService.PaymentDetail) -> String {
        let e = HTML.escape
        let zone = exchange.zone
        let row = detail.row
        let p = row.payment
        let balance = RefundRules.balance(of: p)
        let receipt = p.receiptURL.flatMap { $0.hasPrefix("https://") || $0.hasPrefix("http://") ? $0 : nil }.map { "<a href=\"\(e($0))\" target=\"_blank\" rel=\"noopener noreferrer\" id=\"receipt-link\">영수증 보기</a>" } ?? "-"
        let subscription = detail.subscription.map { s in
            "<a href=\"/admin/subscriptions/\(e(s.subscription.id))\">\(e(s.subscription.plan.name))</a> \(AdminLayout.subscriptionBadge(s.subscription.status))"
        } ?? "-"
        let refundable = RefundRules.amount(status: p.status, hasPaymentKey: p.paymentKey != nil, total: p.amount, refunded: p.refundedAmount, requested: nil)
        let refundSection: String
        switch refundable {
        case .success:
            let canCancel = detail.subscription.map { !$0.subscription.status.isFinal } ?? false
            refundSection = """
            <form method="post" action="/admin/payments/\(e(p.id))/refund" class="form card" id="refund-form">
            \(Layout.csrfField(exchange))
            <input type="hidden" name="expected_refunded_amount" value="\(p.refundedAmount)">
            <label class="field">환불 금액 (원)<input name="amount" type="number" min="1" max="\(balance)" value="\(balance)" required>
            <span class="hint">환불 가능 금액 \(e(Won.format(balance))) 이하. 일부만 환불하면 부분 취소가 됩니다.</span></label>
            <label class="field">사유<input name="reason" required maxlength="\(RefundRules.maxReasonLength)" placeholder="예: 고객 요청으로 환불"></label>
            \(canCancel ? "<label class=\"check\"><input type=\"checkbox\" name=\"cancel_subscription\" value=\"1\"> 구독도 지금 해지 (다음 결제 없음)</label>" : "")
            <div class="actions"><button type="submit" class="button danger" id="refund-button">토스페이먼츠로 환불</button></div>
            </form>
            """
        case .failure(let reason):
            refundSection = "<p class=\"muted\" id=\"refund-unavailable\">\(e(reason.httpError.message))</p>"
        }
        return """
        <dl class="facts" id="payment-facts">
        <dt>상태</dt><dd>\(AdminLayout.paymentBadge(p.status))</dd>
        <dt>주문번호 (orderId)</dt><dd><code>\(e(p.orderID))</code></dd>
        <dt>주문명</dt><dd>\(e(p.orderName))</dd>
        <dt>paymentKey</dt><dd><code>\(e(p.paymentKey ?? "-"))</code></dd>
        <dt>결제 수단</dt><dd>\(e(p.paymentMethod ?? "-"))</dd>
        <dt>금액</dt><dd>\(e(Won.format(p.amount)))</dd>
        <dt>환불된 금액</dt><dd id="refunded-amount">\(e(Won.format(p.refundedAmount)))</dd>
        <dt>환불 가능 금액</dt><dd id="refundable-amount">\(e(Won.format(balance)))</dd>
        <dt>결제일</dt><dd>\(AdminLayout.time(p.paidAt, zone))</dd>
        <dt>시도</dt><dd>\(p.periodIndex + 1)회차 · \(p.attempt)번째 시도 · 생성 \(AdminLayout.time(p.createdAt, zone))</dd>
        <dt>실패 코드</dt><dd>\(e(p.failureCode ?? "-"))</dd>
        <dt>실패 사유</dt><dd>\(e(p.failureReason ?? "-"))</dd>
        <dt>영수증</dt><dd>\(receipt)</dd>
        <dt>회원</dt><dd><a href="/admin/users/\(e(row.owner.id))">\(e(row.owner.username))</a> · \(e(row.owner.email))</dd>
        <dt>구독</dt><dd>\(subscription)</dd>
        </dl>
        <h2>환불</h2>
        \(refundSection)
        <h2>작업 기록</h2>
        \(AdminLayout.auditList(detail.audit, zone: zone))
        """
    }
}
