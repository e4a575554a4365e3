import Billing
import Foundation
import Web

/// `/admin/plans`: the catalogue, and creating, editing, deactivating and deleting plans.
enum AdminPlanPages {
    static func register(_ table: inout RouteTable) {
        table.page("GET", "/admin/plans", .staff, summary: "Back office: plans", query: AdminAPI.listQuery) { exchange in
            let request = try AdminListRequest.parse(exchange.request.query, list: .plans, zone: exchange.zone)
            return list(exchange, request, try exchange.admin.plans(request))
        }
        table.page("GET", "/admin/plans/new", .staff, summary: "Back office: new plan form") { exchange in
            AdminLayout.page(exchange, title: "새 요금제", section: .plans, body: form(exchange, plan: nil, inUse: false, error: nil))
        }
        table.page("POST", "/admin/plans", .staff, summary: "Back office: create a plan (form)") { exchange in
            do {
                let row = try exchange.admin.createPlan(try PlanDraft(form: exchange.request.form))
                return AdminLayout.redirect("/admin/plans/\(row.plan.id)", notice: "요금제 '\(row.plan.name)'을(를) 만들었습니다.")
            } catch let error as AdminError {
                let draft = Plan(id: "", name: exchange.request.form["name"] ?? "", planType: exchange.request.form["plan_type"] ?? "", price: 0,
                                 billingCycle: exchange.request.form["billing_cycle"] ?? "",
                                 features: (exchange.request.form["features"] ?? "").split(whereSeparator: \.isNewline).map(String.init),
                                 isActive: exchange.request.form["is_active"] != nil)
                let body = form(exchange, plan: draft, inUse: false, error: error.httpError, priceText: exchange.request.form["price"] ?? "")
                return AdminLayout.page(exchange, title: "새 요금제", section: .plans, body: body, status: 400)
            }
        }
        table.page("GET", "/admin/plans/{plan_id}", .staff, summary: "Back office: edit a plan") { exchange in
            let detail = try exchange.admin.plan(id: try exchange.pathParameter("plan_id"))
            return AdminLayout.page(exchange, title: "요금제: \(detail.row.plan.name)", section: .plans, body: edit(exchange, detail))
        }
        table.page("POST", "/admin/plans/{plan_id}", .staff, summary: "Back office: edit a plan (form)") { exchange in
            let id = try exchange.pathParameter("plan_id")
            return try AdminLayout.action(back: "/admin/plans/\(id)") {
                let row = try exchange.admin.updatePlan(id: id, try PlanDraft(form: exchange.request.form))
                return AdminLayout.redirect("/admin/plans/\(row.plan.id)", notice: "요금제를 저장했습니다. 바뀐 가격은 새 구독자에게 적용됩니다. 기존 구독자에게는 가격 변경을 예약하세요.")
            }
        }
        table.page("POST", "/admin/plans/{plan_id}/price-changes", .staff, summary: "Back office: schedule a price change (form)") { exchange in
            let id = try exchange.pathParameter("plan_id")
            return try AdminLayout.action(back: "/admin/plans/\(id)") {
                let form = exchange.request.form
                guard let text = form["effective_at"], let effectiveAt = RFC3339.parse(text.count == 16 ? text + ":00" : text, defaultZone: exchange.zone) else {
                    throw HTTPError.badRequest("적용 시각을 입력하세요.", code: "INVALID_FIELD")
                }
                let amountText = (form["amount"] ?? "").trimmingCharacters(in: .whitespaces)
                guard amountText.isEmpty || Int(amountText) != nil else { throw HTTPError.badRequest("금액은 정수(원)로 입력하세요.", code: "INVALID_FIELD") }
                let change = try exchange.priceChanges.schedule(planID: id, amount: Int(amountText), effectiveAt: effectiveAt,
                                                                staffID: try exchange.requireUser().id)
                return AdminLayout.redirect("/admin/plans/\(id)", notice: "가격 변경을 예약했습니다. 구독자 \(change.consents.values.reduce(0, +))명에게 알립니다.")
            }
        }
        table.page("POST", "/admin/price-changes/{price_change_id}/withdraw", .staff, summary: "Back office: withdraw a price change (form)") { exchange in
            let change = try exchange.priceChanges.withdraw(id: try exchange.pathParameter("price_change_id"), staffID: try exchange.requireUser().id)
            return AdminLayout.redirect("/admin/plans/\(change.planID)", notice: "가격 변경을 철회했습니다.")
        }
        table.page("POST", "/admin/plans/{plan_id}/deactivate", .staff, summary: "Back office: deactivate a plan (form)") { exchange in
            let id = try exchange.pathParameter("plan_id")
            return try AdminLayout.action(back: "/admin/plans/\(id)") {
                let row = try exchange.admin.setPlanActive(id: id, false)
                return AdminLayout.redirect("/admin/plans/\(row.plan.id)", notice: "요금제를 비활성화했습니다. 새로 구독할 수 없고, 기존 구독은 그대로 결제됩니다.")
            }
        }
        table.page("POST", "/admin/plans/{plan_id}/activate", .staff, summary: "Back office: activate a plan (form)") { exchange in
            let id = try exchange.pathParameter("plan_id")
            return try AdminLayout.action(back: "/admin/plans/\(id)") {
                let row = try exchange.admin.setPlanActive(id: id, true)
                return AdminLayout.redirect("/admin/plans/\(row.plan.id)", notice: "요금제를 다시 판매합니다.")
            }
        }
        table.page("POST", "/admin/plans/{plan_id}/delete", .staff, summary: "Back office: delete an unused plan (form)") { exchange in
            let id = try exchange.pathParameter("plan_id")
            return try AdminLayout.action(back: "/admin/plans/\(id)") {
                try exchange.admin.deletePlan(id: id)
                return AdminLayout.redirect("/admin/plans", notice: "요금제를 삭제했습니다.")
            }
        }
    }

    private static func list(_ exchange: Exchange, _ request: AdminListRequest, _ page: AdminPage<AdminPlanRow>) -> HTTPResponse {
        let e = HTML.escape
        let zone = exchange.zone
        let path = "/admin/plans"
        let filters = AdminLayout.filters(request, path: path, [
            .search(placeholder: "요금제 이름"),
            .select(name: "status", label: "판매 상태", options: [("ACTIVE", "판매 중"), ("INACTIVE", "비활성")]),
            .select(name: "plan_type", label: "종류", options: AdminLayout.planTypes),
            .select(name: "cycle", label: "결제 주기", options: AdminLayout.cycles),
        ], zone: zone)
        let head = AdminLayout.sortHeader("이름", key: "name", request, path: path, zone: zone) + "<th>종류</th>"
            + AdminLayout.sortHeader("가격", key: "price", request, path: path, zone: zone, numeric: true)
            + "<th>주기</th><th>상태</th><th class=\"num\">이용 중 / 전체 구독</th>"
        let rows = page.items.map { row in
            let plan = row.plan
            return """
            <tr data-plan-id="\(e(plan.id))"><td><a href="/admin/plans/\(e(plan.id))">\(e(plan.name))</a></td><td>\(e(plan.planType))</td>
            <td class="num">\(e(Won.format(plan.price)))</td><td>\(e(CycleNames.label(plan.billingCycle)))</td>
            <td>\(plan.isActive ? AdminLayout.badge("ACTIVE", "판매 중") : AdminLayout.badge("CANCELLED", "비활성"))</td>
            <td class="num">\(row.liveCount) / \(row.subscriptionCount)</td></tr>
            """
        }
        let body = """
        <p><a class="button primary small" href="/admin/plans/new" id="new-plan">새 요금제</a></p>
        \(filters)
        \(AdminLayout.table(id: "plans", head: head, rows: rows, columns: 6))
        \(AdminLayout.pagination(page, request, path: path, zone: zone))
        """
        return AdminLayout.page(exchange, title: "요금제", section: .plans, body: body)
    }

    private static func edit(_ exchange: Exchange, _ detail: AdminService.PlanDetail) -> String {
        let e = HTML.escape
        let row = detail.row
        let plan = row.plan
        let csrf = Layout.csrfField(exchange)
        let toggle = plan.isActive
            ? "<form method=\"post\" action=\"/admin/plans/\(e(plan.id))/deactivate\" class=\"inline\">\(csrf)<button type=\"submit\" class=\"button small\" id=\"deactivate-plan\">비활성화 (판매 중지)</button></form>"
            : "<form method=\"post\" action=\"/admin/plans/\(e(plan.id))/activate\" class=\"inline\">\(csrf)<button type=\"submit\" class=\"button small\" id=\"activate-plan\">다시 판매</button></form>"
        let delete = row.subscriptionCount == 0
            ? "<form method=\"post\" action=\"/admin/plans/\(e(plan.id))/delete\" class=\"inline\">\(csrf)<button type=\"submit\" class=\"button small danger\" id=\"delete-plan\">삭제</button></form>"
            : "<span class=\"muted\">구독 \(row.subscriptionCount)개가 이 요금제를 써서 삭제할 수 없습니다. 대신 비활성화하세요.</span>"
        return """
        <dl class="facts">
        <dt>상태</dt><dd>\(plan.isActive ? AdminLayout.badge("ACTIVE", "판매 중") : AdminLayout.badge("CANCELLED", "비활성"))</dd>
        <dt>이용 중인 구독</dt><dd>\(row.liveCount)개 (전체 \(row.subscriptionCount)개)</dd>
        <dt>만든 날</dt><dd>\(AdminLayout.time(row.createdAt, exchange.zone))</dd>
        </dl>
        <div class="actions">\(toggle)\(delete)</div>
        <h2>수정</h2>
        \(form(exchange, plan: plan, inUse: row.subscriptionCount > 0, error: nil))
        <h2>가격 변경 예약 (기존 구독자)</h2>
        \(priceChanges(exchange, plan: plan, changes: detail.priceChanges))
        <h2>작업 기록</h2>
        \(AdminLayout.auditList(detail.audit, zone: exchange.zone))
        """
    }

    /// Scheduled price changes with each one's consent progress, and the form for a new one (≥ 30 days out).
    private static func priceChanges(_ exchange: Exchange, plan: Plan, changes: [PriceChange]) -> String {
        let e = HTML.escape
        let zone = exchange.zone
        let csrf = Layout.csrfField(exchange)
        let labels = ["PENDING": "대기", "GIVEN": "동의", "DECLINED": "거절", "NOT_REQUIRED": "동의 불필요 (인하)",
                      "APPLIED": "적용됨", "ENDED": "종료됨", "SUPERSEDED": "요금제 변경", "WITHDRAWN": "철회됨"]
        func counts(_ figures: [String: Int]) -> String {
            figures.isEmpty ? "-" : figures.sorted { $0.key < $1.key }.map { "\(labels[$0.key] ?? $0.key) \($0.value)" }.joined(separator: " · ")
        }
        let rows = changes.map { change in
            let withdraw = change.withdrawnAt == nil && change.effectiveAt > exchange.now
                ? "<form method=\"post\" action=\"/admin/price-changes/\(e(change.id))/withdraw\" class=\"inline\">\(csrf)<button class=\"button small\">철회</button></form>"
                : change.withdrawnAt.map { "철회 \(AdminLayout.time($0, zone))" } ?? ""
            return """
            <tr data-price-change-id="\(e(change.id))"><td class="num">\(e(Won.format(change.amount)))</td><td>\(AdminLayout.time(change.effectiveAt, zone))</td>
            <td class="num">\(change.consents.values.reduce(0, +))</td><td class="consents">\(e(counts(change.consents)))</td><td>\(e(counts(change.outcomes)))</td><td>\(withdraw)</td></tr>
            """
        }
        let earliest = exchange.now.addingTimeInterval(PriceChanges.minimumNotice + 3600)
        return """
        \(AdminLayout.table(id: "price-changes", head: "<th class=\"num\">새 가격</th><th>적용 시각</th><th class=\"num\">대상 구독</th><th>동의 현황</th><th>결과</th><th></th>", rows: rows, columns: 6))
        <form method="post" action="/admin/plans/\(e(plan.id))/price-changes" class="form card" id="price-change-form">\(csrf)
        <label class="field">새 가격 (원)<input name="amount" type="number" min="\(PlanDraft.priceRange.lowerBound)" max="\(PlanDraft.priceRange.upperBound)" value="\(plan.price)"></label>
        <label class="field">적용 시각<input name="effective_at" type="datetime-local" required value="\(e(String(RFC3339.format(earliest, in: zone).prefix(16))))">
        <span class="hint">고지 후 30일이 지나야 합니다. 인상은 구독자가 동의해야 청구되고, 동의하지 않으면 그 다음 결제일에 구독이 끝납니다. 인하는 바로 적용됩니다.</span></label>
        <div class="actions"><button type="submit" class="button primary" id="schedule-price-change">가격 변경 예약</button></div>
        </form>
        """
    }

    private static func form(_ exchange: Exchange, plan: Plan?, inUse: Bool, error: HTTPError?, priceText: String? = nil) -> String {
        let e = HTML.escape
        let isNew = plan?.id.isEmpty ?? true
        let action = isNew ? "/admin/plans" : "/admin/plans/\(plan!.id)"
        func options(_ choices: [(String, String)], _ current: String?) -> String {
            choices.map { "<option value=\"\(e($0.0))\"\($0.0 == current ? " selected" : "")>\(e($0.1))</option>" }.joined()
        }
        let price = priceText ?? plan.map { String($0.price) } ?? ""
        let cycleHint = inUse ? "<span class=\"hint\">이 요금제를 쓰는 구독이 있어 결제 주기는 바꿀 수 없습니다.</span>" : ""
        let alert = error.map { "<div class=\"alert error\" id=\"form-error\" role=\"alert\"><p>\(e($0.message))</p></div>" } ?? ""
        return """
        \(alert)
        <form method="post" action="\(e(action))" class="form card" id="plan-form">
        \(Layout.csrfField(exchange))
        <label class="field">이름<input name="name" required maxlength="100" value="\(e(plan?.name ?? ""))"></label>
        <label class="field">종류<select name="plan_type" required>\(options(AdminLayout.planTypes, plan?.planType))</select></label>
        <label class="field">가격 (원)<input name="price" type="number" min="\(PlanDraft.priceRange.lowerBound)" max="\(PlanDraft.priceRange.upperBound)" required value="\(e(price))">
        <span class="hint">바꾼 가격은 새 구독자에게 적용됩니다. 기존 구독자의 가격은 아래 '가격 변경 예약'으로만 바뀝니다 (30일 전 고지, 인상은 동의 필요).</span></label>
        <label class="field">결제 주기<select name="billing_cycle" required\(inUse ? " disabled" : "")>\(options(AdminLayout.cycles, plan?.billingCycle))</select>\(cycleHint)</label>
        <label class="field">기능 (한 줄에 하나)<textarea name="features" rows="5">\(e((plan?.features ?? []).joined(separator: "\n")))</textarea></label>
        <label class="check"><input type="checkbox" name="is_active" value="1"\((plan?.isActive ?? true) ? " checked" : "")> 판매 중 (요금제 페이지에 보임)</label>
        <div class="actions"><button type="submit" class="button primary" id="save-plan">\(isNew ? "만들기" : "저장")</button></div>
        </form>
        """
    }
}
