import Billing
import Foundation
import Web

/// The back office's frame (side navigation + main column) and the pieces every list shares: filters, sortable headers, pagination.
enum AdminLayout {
    enum Section: String, CaseIterable {
        case dashboard, plans, coupons, subscriptions, payments, users, webhooks

        var path: String {
            switch self {
            case .dashboard: "/admin"
            case .webhooks: "/admin/webhook-events"
            default: "/admin/" + rawValue
            }
        }

        var label: String {
            switch self {
            case .dashboard: "대시보드"
            case .plans: "요금제"
            case .coupons: "쿠폰"
            case .subscriptions: "구독"
            case .payments: "결제"
            case .users: "회원"
            case .webhooks: "웹훅 이벤트"
            }
        }
    }

    /// No script runs in the back office; forms post only to this origin.
    static let contentSecurityPolicy = "default-src 'self'; script-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

    static func page(_ exchange: Exchange, title: String, section: Section, body: String, status: Int = 200) -> HTTPResponse {
        let e = HTML.escape
        let nav = Section.allCases.map { item in
            "<a href=\"\(item.path)\"\(item == section ? " aria-current=\"page\"" : "")>\(e(item.label))</a>"
        }.joined()
        let content = """
        <div class="admin" id="admin">
        <nav class="admin-nav" aria-label="관리자 메뉴">\(nav)</nav>
        <div class="admin-main">
        <h1>\(e(title))</h1>
        \(notice(exchange))
        \(body)
        </div>
        </div>
        """
        var response = HTTPResponse.html(Layout.page(title: "관리자 · " + title, exchange, body: content), status: status)
        response.addHeader("Content-Security-Policy", contentSecurityPolicy)
        response.addHeader("Cache-Control", "no-store")
        return response
    }

    /// The message a form's redirect carries back (`?notice=` or `?error=&code=`).
    static func notice(_ exchange: Exchange) -> String {
        let e = HTML.escape
        if let error = exchange.request.query["error"], !error.isEmpty {
            let code = exchange.request.query["code"].map { "<p class=\"muted\">코드: \(e(String($0.prefix(60))))</p>" } ?? ""
            return "<div class=\"alert error\" id=\"notice\" role=\"alert\"><p>\(e(String(error.prefix(300))))</p>\(code)</div>"
        }
        if let notice = exchange.request.query["notice"], !notice.isEmpty {
            return "<div class=\"alert success\" id=\"notice\" role=\"status\"><p>\(e(String(notice.prefix(300))))</p></div>"
        }
        return ""
    }

    static func redirect(_ path: String, notice: String) -> HTTPResponse {
        .redirect(to: path + "?notice=" + PercentEncoding.encodeComponent(notice))
    }

    static func redirect(_ path: String, error: HTTPError) -> HTTPResponse {
        .redirect(to: path + "?error=" + PercentEncoding.encodeComponent(error.message) + "&code=" + PercentEncoding.encodeComponent(error.code))
    }

    /// Runs a form action: typed refusals go back to `path` as a message instead of an error page.
    static func action(back path: String, _ body: () throws -> HTTPResponse) throws -> HTTPResponse {
        do {
            return try body()
        } catch let error as HTTPErrorConvertible {
            return redirect(path, error: error.httpError)
        } catch let error as HTTPError where error.status < 500 {
            return redirect(path, error: error)
        }
    }

    // MARK: filters

    enum Filter {
        case search(placeholder: String)
        case select(name: String, label: String, options: [(String, String)])
        case dates
    }

    static let subscriptionStatuses = SubscriptionStatus.allCases.map { ($0.rawValue, $0.koreanLabel) }
    static let paymentStatuses = PaymentStatus.allCases.map { ($0.rawValue, $0.koreanLabel) }
    static let planTypes = PlanType.allCases.map { ($0.rawValue, $0.rawValue) }
    static let cycles = BillingCycle.allCases.map { ($0.rawValue, CycleNames.label($0.rawValue)) }
    static let methods = ["카드", "간편결제", "계좌이체", "가상계좌", "휴대폰"].map { ($0, $0) }

    static func filters(_ request: AdminListRequest, path: String, _ fields: [Filter], zone: TimeZone) -> String {
        let e = HTML.escape
        var html = ""
        for field in fields {
            switch field {
            case .search(let placeholder):
                html += "<label class=\"field\">검색<input type=\"search\" name=\"q\" value=\"\(e(request.q ?? ""))\" placeholder=\"\(e(placeholder))\"></label>"
            case .select(let name, let label, let options):
                let current = value(of: name, request)
                let choices = options.map { option in
                    "<option value=\"\(e(option.0))\"\(option.0 == current ? " selected" : "")>\(e(option.1))</option>"
                }.joined()
                html += "<label class=\"field\">\(e(label))<select name=\"\(e(name))\"><option value=\"\">전체</option>\(choices)</select></label>"
            case .dates:
                let from = request.from.map { AdminDates.day($0, zone: zone) } ?? ""
                let to = request.until.map { AdminDates.day($0.addingTimeInterval(-1), zone: zone) } ?? ""
                html += "<label class=\"field\">시작일<input type=\"date\" name=\"from\" value=\"\(e(from))\"></label>"
                html += "<label class=\"field\">종료일<input type=\"date\" name=\"to\" value=\"\(e(to))\"></label>"
            }
        }
        if request.sort != request.list.defaultSort { html += "<input type=\"hidden\" name=\"sort\" value=\"\(e(request.sort.parameter))\">" }
        return """
        <form method="get" action="\(e(path))" class="filters" id="filters">\(html)
        <div class="actions"><button type="submit" class="button primary small">검색</button><a class="button small" href="\(e(path))">초기화</a></div>
        </form>
        """
    }

    private static func value(of name: String, _ request: AdminListRequest) -> String? {
        switch name {
        case "status": request.status
        case "plan_type": request.planType
        case "cycle": request.cycle
        case "method": request.method
        case "type": request.eventType
        case "staff": request.staff.map { $0 ? "1" : "0" }
        default: nil
        }
    }

    /// A column header that sorts by `key`, toggling the direction when it already does.
    static func sortHeader(_ label: String, key: String, _ request: AdminListRequest, path: String, zone: TimeZone, numeric: Bool = false) -> String {
        let e = HTML.escape
        let active = request.sort.key == key
        let next = AdminSort(key: key, descending: active ? !request.sort.descending : true)
        let query = request.queryString(sort: next, page: 1, zone: zone)
        let arrow = active ? (request.sort.descending ? " ▼" : " ▲") : ""
        let sortState = active ? " aria-sort=\"\(request.sort.descending ? "descending" : "ascending")\"" : ""
        return "<th\(numeric ? " class=\"num\"" : "")\(sortState)><a href=\"\(e(path + (query.isEmpty ? "" : "?" + query)))\">\(e(label))\(arrow)</a></th>"
    }

    static func pagination<Item>(_ page: AdminPage<Item>, _ request: AdminListRequest, path: String, zone: TimeZone) -> String {
        guard page.page > 1 || page.hasNext else { return "" }
        let e = HTML.escape
        func link(_ number: Int, _ label: String, rel: String) -> String {
            let query = request.queryString(page: number, zone: zone)
            return "<a href=\"\(e(path + (query.isEmpty ? "" : "?" + query)))\" rel=\"\(rel)\">\(e(label))</a>"
        }
        var html = ""
        if page.page > 1 { html += link(page.page - 1, "← 이전", rel: "prev") }
        html += "<span class=\"current\">\(page.page)</span>"
        if page.hasNext && page.page < AdminPaging.maxPage { html += link(page.page + 1, "다음 →", rel: "next") }
        return "<nav class=\"pagination\" aria-label=\"페이지\">\(html)</nav>"
    }

    static func table(id: String, head: String, rows: [String], columns: Int, empty: String = "조건에 맞는 항목이 없습니다.") -> String {
        let body = rows.isEmpty ? "<tr><td class=\"empty\" colspan=\"\(columns)\">\(HTML.escape(empty))</td></tr>" : rows.joined()
        return "<div class=\"table-wrap\"><table class=\"table\" id=\"\(id)\"><thead><tr>\(head)</tr></thead><tbody>\(body)</tbody></table></div>"
    }

    // MARK: small pieces

    static func badge(_ status: String, _ label: String) -> String {
        "<span class=\"badge status-\(HTML.escape(status))\">\(HTML.escape(label))</span>"
    }

    static func subscriptionBadge(_ status: SubscriptionStatus) -> String { badge(status.rawValue, status.koreanLabel) }
    static func paymentBadge(_ status: PaymentStatus) -> String { badge(status.rawValue, status.koreanLabel) }

    static func time(_ date: Date?, _ zone: TimeZone) -> String {
        date.map { "<time datetime=\"\(HTML.escape(RFC3339.format($0, in: zone)))\">\(HTML.escape(Format.dateTime($0, zone)))</time>" } ?? "-"
    }

    static func auditList(_ entries: [AuditEntry], zone: TimeZone) -> String {
        guard !entries.isEmpty else { return "<p class=\"muted\" id=\"audit-log\">관리자 작업 기록이 없습니다.</p>" }
        let e = HTML.escape
        let rows = entries.reversed().map { entry in
            "<tr data-action=\"\(e(entry.action))\"><td>\(time(entry.createdAt, zone))</td><td>\(e(entry.actorName ?? entry.actorID ?? "-"))</td><td>\(e(entry.summary))</td><td><code>\(e(entry.action))</code></td></tr>"
        }
        return table(id: "audit-log", head: "<th>일시</th><th>관리자</th><th>내용</th><th>작업</th>", rows: Array(rows), columns: 4)
    }
}
