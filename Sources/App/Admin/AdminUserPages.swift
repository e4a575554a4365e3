import Billing
import Foundation
import Web

/// `/admin/users`: people who signed up, with their subscriptions and payments.
enum AdminUserPages {
    static func register(_ table: inout RouteTable) {
        table.page("GET", "/admin/users", .staff, summary: "Back office: users", query: AdminAPI.listQuery + ["staff"]) { exchange in
            let request = try AdminListRequest.parse(exchange.request.query, list: .users, zone: exchange.zone)
            return list(exchange, request, try exchange.admin.users(request))
        }
        table.page("GET", "/admin/users/{user_id}", .staff, summary: "Back office: a user") { exchange in
            let detail = try exchange.admin.user(id: try exchange.pathParameter("user_id"))
            return AdminLayout.page(exchange, title: "회원: \(detail.row.username)", section: .users, body: show(exchange, detail))
        }
    }

    private static func list(_ exchange: Exchange, _ request: AdminListRequest, _ page: AdminPage<AdminUserRow>) -> HTTPResponse {
        let e = HTML.escape
        let zone = exchange.zone
        let path = "/admin/users"
        let filters = AdminLayout.filters(request, path: path, [
            .search(placeholder: "아이디, 이메일, customer_key, 주문번호, paymentKey"),
            .select(name: "status", label: "구독 상태", options: AdminLayout.subscriptionStatuses),
            .select(name: "plan_type", label: "요금제 종류", options: AdminLayout.planTypes),
            .select(name: "staff", label: "권한", options: [("1", "관리자"), ("0", "일반 회원")]),
            .dates,
        ], zone: zone)
        let head = AdminLayout.sortHeader("아이디", key: "username", request, path: path, zone: zone)
            + AdminLayout.sortHeader("이메일", key: "email", request, path: path, zone: zone) + "<th>권한</th>"
            + AdminLayout.sortHeader("가입일", key: "created_at", request, path: path, zone: zone)
            + AdminLayout.sortHeader("최근 로그인", key: "last_login", request, path: path, zone: zone)
            + "<th class=\"num\">구독</th><th>최근 구독 상태</th>"
        let rows = page.items.map { user in
            let status = user.latestStatus.flatMap(SubscriptionStatus.init(rawValue:)).map(AdminLayout.subscriptionBadge) ?? "-"
            return """
            <tr data-user-id="\(e(user.id))"><td><a href="/admin/users/\(e(user.id))">\(e(user.username))</a></td><td>\(e(user.email))</td>
            <td>\(user.isStaff ? AdminLayout.badge("PENDING", "관리자") : "")</td><td>\(AdminLayout.time(user.createdAt, zone))</td>
            <td>\(AdminLayout.time(user.lastLogin, zone))</td><td class="num">\(user.subscriptionCount)</td><td>\(status)</td></tr>
            """
        }
        let body = """
        \(filters)
        \(AdminLayout.table(id: "users", head: head, rows: rows, columns: 7))
        \(AdminLayout.pagination(page, request, path: path, zone: zone))
        """
        return AdminLayout.page(exchange, title: "회원", section: .users, body: body)
    }

    private static func show(_ exchange: Exchange, _ detail: AdminService.UserDetail) -> String {
        let e = HTML.escape
        let zone = exchange.zone
        let user = detail.row
        let subscriptions = detail.subscriptions.map { row in
            let s = row.subscription
            return """
            <tr data-subscription-id="\(e(s.id))"><td><a href="/admin/subscriptions/\(e(s.id))">\(AdminLayout.time(s.createdAt, zone))</a></td>
            <td>\(e(s.plan.name))</td><td>\(AdminLayout.subscriptionBadge(s.status))</td><td>\(AdminLayout.time(s.nextBillingDate, zone))</td>
            <td>\(e(s.cardCompany ?? "")) \(e(s.cardNumber ?? ""))</td></tr>
            """
        }
        let payments = detail.payments.map { row in
            let p = row.payment
            return """
            <tr data-payment-id="\(e(p.id))"><td><a href="/admin/payments/\(e(p.id))">\(AdminLayout.time(p.createdAt, zone))</a></td>
            <td><code>\(e(p.orderID))</code></td><td class="num">\(e(Won.format(p.amount)))</td>
            <td class="num">\(p.refundedAmount > 0 ? e(Won.format(p.refundedAmount)) : "-")</td><td>\(AdminLayout.paymentBadge(p.status))</td></tr>
            """
        }
        return """
        <dl class="facts" id="user-facts">
        <dt>아이디</dt><dd>\(e(user.username))</dd>
        <dt>이메일</dt><dd>\(e(user.email))</dd>
        <dt>권한</dt><dd>\(user.isStaff ? "관리자" : "일반 회원")\(user.isActive ? "" : " (비활성 계정)")</dd>
        <dt>가입일</dt><dd>\(AdminLayout.time(user.createdAt, zone))</dd>
        <dt>최근 로그인</dt><dd>\(AdminLayout.time(user.lastLogin, zone))</dd>
        </dl>
        <h2>구독</h2>
        \(AdminLayout.table(id: "user-subscriptions", head: "<th>신청일</th><th>요금제</th><th>상태</th><th>다음 결제</th><th>카드</th>",
                            rows: subscriptions, columns: 5, empty: "구독이 없습니다."))
        <h2>최근 결제</h2>
        \(AdminLayout.table(id: "user-payments", head: "<th>일시</th><th>주문번호</th><th class=\"num\">금액</th><th class=\"num\">환불</th><th>상태</th>",
                            rows: payments, columns: 5, empty: "결제 내역이 없습니다."))
        """
    }
}
