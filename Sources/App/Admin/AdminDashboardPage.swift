import Billing
import Foundation
import Web

/// `GET /admin`: MRR, active subscriptions by plan, this month's new and churned subscriptions, failed-charge rate, 12 months of revenue.
enum AdminDashboardPage {
    static func register(_ table: inout RouteTable) {
        table.page("GET", "/admin", .staff, summary: "Back office dashboard") { exchange in
            let figures = try exchange.admin.dashboard()
            let e = HTML.escape
            let rate = figures.failedChargeRate.map { String(format: "%.1f%%", $0 * 100) } ?? "-"
            let monthName = "\(figures.month.label.prefix(4))년 \(Int(figures.month.label.suffix(2)) ?? 0)월"
            func stat(_ id: String, _ label: String, _ value: String, _ note: String = "") -> String {
                "<div class=\"stat\" id=\"\(id)\"><div class=\"label\">\(e(label))</div><div class=\"value\">\(e(value))</div>\(note.isEmpty ? "" : "<div class=\"muted\">\(e(note))</div>")</div>"
            }
            let activeTotal = figures.activeByPlan.reduce(0) { $0 + $1.count }
            let stats = [
                stat("stat-mrr", "월 반복 매출 (MRR)", Won.format(figures.mrr), "활성·미납 구독 기준"),
                stat("stat-active", "활성 구독", "\(Won.formatNumber(activeTotal))개"),
                stat("stat-new", "\(monthName) 신규 구독", "\(Won.formatNumber(figures.newThisMonth))개"),
                stat("stat-churned", "\(monthName) 해지·만료", "\(Won.formatNumber(figures.churnedThisMonth))개"),
                stat("stat-failed-rate", "\(monthName) 결제 실패율", rate, "실패 \(figures.failedCharges)건 / 시도 \(figures.chargeAttempts)건"),
            ].joined()
            let revenueBars = figures.revenueByMonth.map { month, amount in
                SVGChart.Bar(label: month.shortLabel, value: amount, title: "\(month.label) \(Won.format(amount))")
            }
            let planBars = figures.activeByPlan.map { SVGChart.Bar(label: $0.planName, value: $0.count, title: "\($0.planName) \($0.count)개") }
            let revenueRows = figures.revenueByMonth.reversed().map { month, amount in
                "<tr><td>\(e(month.label))</td><td class=\"num\">\(e(Won.format(amount)))</td></tr>"
            }
            let body = """
            <section class="stats" id="dashboard-stats">\(stats)</section>
            \(SVGChart.columns(revenueBars, id: "chart-revenue", caption: "최근 12개월 매출 (환불 차감, 결제일 기준)"))
            \(SVGChart.rows(planBars, id: "chart-active-by-plan", caption: "요금제별 활성 구독 수", unit: "개"))
            <details><summary>월별 매출 표</summary>
            \(AdminLayout.table(id: "revenue-table", head: "<th>월</th><th class=\"num\">매출</th>", rows: Array(revenueRows), columns: 2))
            </details>
            """
            return AdminLayout.page(exchange, title: "대시보드", section: .dashboard, body: body)
        }
    }
}
