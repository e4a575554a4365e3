import Billing
import Foundation
import Web

/// `/admin/coupons`: every coupon with its redemptions, making one, and stopping one.
enum AdminCouponPages {
    static func register(_ table: inout RouteTable) {
        table.page("GET", "/admin/coupons", .staff, summary: "Back office: coupons") { exchange in
            let (coupons, plans) = try exchange.withDatabase { (try CouponRepository(connection: $0).all(), try PlanRepository(connection: $0).all()) }
            return AdminLayout.page(exchange, title: "쿠폰", section: .coupons, body: page(exchange, coupons: coupons, plans: plans))
        }
        table.page("POST", "/admin/coupons", .staff, summary: "Back office: make a coupon (form)") { exchange in
            try AdminLayout.action(back: "/admin/coupons") {
                let form = exchange.request.form
                func number(_ field: String) throws -> Int? {
                    let text = (form[field] ?? "").trimmingCharacters(in: .whitespaces)
                    guard !text.isEmpty else { return nil }
                    guard let value = Int(text) else { throw HTTPError.badRequest("\(field)은(는) 정수여야 합니다.", code: "INVALID_FIELD") }
                    return value
                }
                let kind = form["kind"] ?? "percent"
                let value = try number("value")
                let expiresText = (form["expires_at"] ?? "").trimmingCharacters(in: .whitespaces)
                let expiresAt = expiresText.isEmpty ? nil : RFC3339.parse(expiresText.count == 16 ? expiresText + ":00" : expiresText, defaultZone: exchange.zone)
                let planIDs = form["plan_id"].map { $0.isEmpty ? [] : [$0] } ?? []
                let draft = try CouponDraft(code: form["code"] ?? "", name: form["name"] ?? "", percentOff: kind == "percent" ? value : nil,
                                            amountOff: kind == "amount" ? value : nil, duration: form["duration"] ?? "", durationPeriods: try number("duration_periods"),
                                            maxRedemptions: try number("max_redemptions"), expiresAt: expiresAt, planIDs: planIDs)
                let coupon = try exchange.coupons.create(draft, staffID: try exchange.requireUser().id)
                return AdminLayout.redirect("/admin/coupons", notice: "쿠폰 \(coupon.code)을(를) 만들었습니다.")
            }
        }
        table.page("POST", "/admin/coupons/{coupon_id}/deactivate", .staff, summary: "Back office: stop a coupon (form)") { exchange in
            try AdminLayout.action(back: "/admin/coupons") {
                let coupon = try exchange.coupons.setActive(id: try exchange.pathParameter("coupon_id"), false, staffID: try exchange.requireUser().id)
                return AdminLayout.redirect("/admin/coupons", notice: "쿠폰 \(coupon.code)의 사용을 중지했습니다.")
            }
        }
    }

    private static func page(_ exchange: Exchange, coupons: [Coupon], plans: [Plan]) -> String {
        let e = HTML.escape
        let zone = exchange.zone
        let csrf = Layout.csrfField(exchange)
        let planNames = Dictionary(uniqueKeysWithValues: plans.map { ($0.id, $0.name) })
        let durations = ["ONCE": "1회", "REPEATING": "N회", "FOREVER": "계속"]
        let rows = coupons.map { coupon in
            let periods = coupon.duration == .repeating ? " (\(coupon.durationPeriods ?? 0)회)" : ""
            let limit = coupon.maxRedemptions.map { " / \($0)" } ?? " / 무제한"
            let stop = coupon.isActive
                ? "<form method=\"post\" action=\"/admin/coupons/\(e(coupon.id))/deactivate\" class=\"inline\">\(csrf)<button class=\"button small\">사용 중지</button></form>"
                : AdminLayout.badge("CANCELLED", "중지됨")
            return """
            <tr data-coupon-code="\(e(coupon.code))"><td><code>\(e(coupon.code))</code> \(e(coupon.name))</td><td>\(e(coupon.summary))</td>
            <td>\(e(durations[coupon.duration.rawValue] ?? ""))\(periods)</td><td class="num redeemed">\(coupon.redeemed)\(limit)</td>
            <td>\(coupon.expiresAt.map { AdminLayout.time($0, zone) } ?? "-")</td>
            <td>\(e(coupon.planIDs.isEmpty ? "모든 요금제" : coupon.planIDs.map { planNames[$0] ?? $0 }.joined(separator: ", ")))</td><td>\(stop)</td></tr>
            """
        }
        let planOptions = "<option value=\"\">모든 요금제</option>" + plans.map { "<option value=\"\(e($0.id))\">\(e($0.name))</option>" }.joined()
        return """
        \(AdminLayout.table(id: "coupons", head: "<th>코드</th><th>할인</th><th>기간</th><th class=\"num\">사용 / 한도</th><th>만료</th><th>요금제</th><th></th>", rows: rows, columns: 7))
        <h2>새 쿠폰</h2>
        <form method="post" action="/admin/coupons" class="form card" id="coupon-form">\(csrf)
        <label class="field">코드<input name="code" required maxlength="40" pattern="[A-Za-z0-9_-]{3,40}"></label>
        <label class="field">이름<input name="name" maxlength="100"></label>
        <label class="field">할인 방식<select name="kind"><option value="percent">비율 (%)</option><option value="amount">금액 (원)</option></select></label>
        <label class="field">할인 값<input name="value" type="number" min="1" required></label>
        <label class="field">기간<select name="duration"><option value="ONCE">첫 1회</option><option value="REPEATING">N회</option><option value="FOREVER">계속</option></select></label>
        <label class="field">N회 (기간이 N회일 때)<input name="duration_periods" type="number" min="1" max="120"></label>
        <label class="field">사용 한도 (비우면 무제한)<input name="max_redemptions" type="number" min="1"></label>
        <label class="field">만료 시각 (비우면 없음)<input name="expires_at" type="datetime-local"></label>
        <label class="field">요금제<select name="plan_id">\(planOptions)</select></label>
        <div class="actions"><button type="submit" class="button primary" id="create-coupon">쿠폰 만들기</button></div>
        </form>
        """
    }
}
