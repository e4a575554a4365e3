import Billing
import Foundation
import Web

/// `/account`: the person's subscriptions, next charge, card, payments with receipts, and the buttons to manage them.
enum AccountPage {
    static func register(_ table: inout RouteTable) {
        table.page("GET", "/account", .signedIn, summary: "Account page") { exchange in
            let user = try exchange.requireUser()
            let (subscriptions, payments, invoices, plans) = try exchange.withDatabase { connection in
                (try SubscriptionRepository(connection: connection).forUser(user.id), try PaymentRepository(connection: connection).forUser(user.id),
                 try InvoiceRepository(connection: connection).forUser(user.id, limit: 100), try PlanRepository(connection: connection).active())
            }
            let config = exchange.app.configuration
            var notice = ""
            if exchange.request.query["paid"] != nil { notice = "<div class=\"alert success\" id=\"notice\">결제가 완료되어 구독이 시작되었습니다.</div>" }
            if exchange.request.query["card"] != nil { notice = "<div class=\"alert success\" id=\"notice\">카드가 등록되었습니다.</div>" }
            if let message = exchange.request.query["message"] { notice = "<div class=\"alert info\" id=\"notice\">\(HTML.escape(message))</div>" }
            let visible = subscriptions.filter { $0.status != .pending || subscriptions.count == 1 }
            let body = """
            <section class="account" id="account" data-client-key="\(HTML.escape(config.tossClientKey))"
              data-customer-email="\(HTML.escape(user.email))" data-customer-name="\(HTML.escape(user.username))"
              data-billing-success-url="\(HTML.escape(exchange.publicOrigin))/api/subscriptions/billing/success"
              data-billing-fail-url="\(HTML.escape(exchange.publicOrigin))/api/subscriptions/billing/fail">
            <h1>내 구독</h1>
            \(notice)
            \(visible.isEmpty ? "<p>아직 구독이 없습니다. <a href=\"/\">요금제 보기</a></p>" : visible.map { card($0, plans: plans, exchange) }.joined(separator: "\n"))
            <h2>청구서</h2>
            \(invoicesTable(invoices, exchange))
            <h2>결제 내역</h2>
            \(paymentsTable(payments, exchange))
            </section>
            """
            let head = """
            <script src="\(HTML.escape(config.tossJSSDKURL))"></script>
            <script src="/static/js/account.js" defer></script>
            """
            var response = HTTPResponse.html(Layout.page(title: "내 구독", exchange, extraHead: head, body: body))
            response.addHeader("Content-Security-Policy", CheckoutPage.contentSecurityPolicy(sdkOrigin: config.tossJSSDKOrigin))
            return response
        }
        table.page("POST", "/account/subscriptions/{subscription_id}/cancel", .signedIn, summary: "Cancel (form)") { exchange in
            let atPeriodEnd = exchange.request.form["at_period_end"] != "0"
            let subscription = try exchange.subscriptions.cancel(user: try exchange.requireUser(), subscriptionID: try exchange.pathParameter("subscription_id"),
                                                                 atPeriodEnd: atPeriodEnd)
            let message = subscription.status == .cancelled ? "구독이 해지되었습니다." : "현재 결제 기간이 끝나면 구독이 해지됩니다."
            return .redirect(to: "/account?message=" + PercentEncoding.encodeComponent(message))
        }
        table.page("POST", "/account/subscriptions/{subscription_id}/change", .signedIn, summary: "Change plan (form)") { exchange in
            let form = exchange.request.form
            let when = form["when"].flatMap(PlanChanges.When.init(rawValue:))
            return outcome {
                let changed = try exchange.planChanges.change(user: try exchange.requireUser(), subscriptionID: try exchange.pathParameter("subscription_id"),
                                                              planID: form["plan_id"] ?? "", when: when)
                if let scheduled = changed.scheduledPlan {
                    return "현재 결제 기간이 끝나면 \(scheduled.name) 요금제로 바뀝니다."
                }
                return "\(changed.plan.name) 요금제로 바뀌었습니다."
            }
        }
        table.page("POST", "/account/subscriptions/{subscription_id}/change/undo", .signedIn, summary: "Undo a scheduled plan change (form)") { exchange in
            outcome {
                _ = try exchange.planChanges.undo(user: try exchange.requireUser(), subscriptionID: try exchange.pathParameter("subscription_id"))
                return "요금제 변경 예약이 취소되었습니다."
            }
        }
        table.page("POST", "/account/subscriptions/{subscription_id}/price-consent", .signedIn, summary: "Answer a price change (form)") { exchange in
            let agree = exchange.request.form["agree"] == "1"
            return outcome {
                _ = try exchange.priceChanges.answer(user: try exchange.requireUser(), subscriptionID: try exchange.pathParameter("subscription_id"),
                                                     agree: agree, ip: exchange.request.remoteAddress)
                return agree ? "새 요금에 동의하셨습니다. 적용 전까지 언제든 철회할 수 있습니다." : "동의하지 않으셨습니다. 새 요금이 적용되는 결제일에 추가 결제 없이 구독이 종료됩니다."
            }
        }
        table.page("POST", "/account/subscriptions/{subscription_id}/resume", .signedIn, summary: "Resume (form)") { exchange in
            _ = try exchange.subscriptions.resume(user: try exchange.requireUser(), subscriptionID: try exchange.pathParameter("subscription_id"))
            return .redirect(to: "/account?message=" + PercentEncoding.encodeComponent("해지 예약이 취소되었습니다."))
        }
    }

    /// Runs a form's action and lands back on `/account` with its message, or with the refusal's message (e.g. CARD_REQUIRED).
    private static func outcome(_ action: () throws -> String) -> HTTPResponse {
        let message: String
        do {
            message = try action()
        } catch let refusal as HTTPErrorConvertible {
            message = refusal.httpError.message
        } catch {
            message = "처리하지 못했습니다. 잠시 후 다시 시도해 주세요."
        }
        return .redirect(to: "/account?message=" + PercentEncoding.encodeComponent(message))
    }

    private static func card(_ s: Subscription, plans: [Plan], _ exchange: Exchange) -> String {
        let e = HTML.escape
        let zone = exchange.zone
        let period = s.startDate.map { start in "\(Format.date(start, zone)) ~ \(s.endDate.map { Format.date($0, zone) } ?? "")" } ?? "-"
        var next = "-"
        if s.status == .active && s.cancelAtPeriodEnd {
            next = "\(s.endDate.map { Format.date($0, zone) } ?? "")에 해지 예정 (더 이상 결제되지 않음)"
        } else if let date = s.nextBillingDate, s.status.isOngoing {
            next = "\(Format.dateTime(date, zone)) · \(Won.format(s.scheduledPlan?.price ?? s.price))"
        }
        let cardText = s.hasCard ? "\(e(s.cardCompany ?? "카드")) \(e(s.cardNumber ?? ""))" : "등록된 카드 없음"
        var actions = ""
        let csrf = Layout.csrfField(exchange)
        switch s.status {
        case .active where s.cancelAtPeriodEnd:
            actions += "<form method=\"post\" action=\"/account/subscriptions/\(e(s.id))/resume\" class=\"inline\">\(csrf)<button class=\"button\" id=\"resume-button\">해지 예약 취소</button></form>"
        case .active, .pastDue:
            if s.status == .active {
                actions += "<form method=\"post\" action=\"/account/subscriptions/\(e(s.id))/cancel\" class=\"inline\">\(csrf)<input type=\"hidden\" name=\"at_period_end\" value=\"1\"><button class=\"button\" id=\"cancel-period-end-button\">기간 끝나면 해지</button></form>"
            }
            actions += "<form method=\"post\" action=\"/account/subscriptions/\(e(s.id))/cancel\" class=\"inline\">\(csrf)<input type=\"hidden\" name=\"at_period_end\" value=\"0\"><button class=\"button danger\" id=\"cancel-now-button\">지금 해지</button></form>"
        case .pending:
            actions += "<a class=\"button primary\" href=\"/checkout/\(e(s.plan.id))\">결제 계속하기</a>"
        default: break
        }
        if s.status.isOngoing {
            actions += "<button type=\"button\" class=\"button change-card-button\" data-customer-key=\"\(e(s.customerKey))\">카드 변경</button>"
        }
        let warning = s.status == .pastDue
            ? "<div class=\"alert error\">자동결제가 실패했습니다. 카드를 변경하면 바로 다시 결제를 시도합니다.</div>" : ""
        return """
        <article class="subscription-card" data-subscription-id="\(e(s.id))" data-status="\(e(s.status.rawValue))">
        <header><h2>\(e(s.plan.name))</h2><span class="badge status-\(e(s.status.rawValue))">\(e(s.status.koreanLabel))</span></header>
        \(warning)
        \(s.status.isOngoing ? priceChangeBanner(s, csrf: csrf, zone: zone) : "")
        \(s.status == .active ? scheduledChange(s, csrf: csrf, zone: zone) : "")
        <dl>
        <dt>요금</dt><dd>\(e(s.pricedPlan.pricePhrase))</dd>
        <dt>이용 기간</dt><dd class="period">\(e(period))</dd>
        <dt>다음 결제</dt><dd class="next-billing">\(e(next))</dd>
        <dt>결제 카드</dt><dd class="card-info">\(cardText)</dd>
        </dl>
        <div class="actions">\(actions)</div>
        \(s.status == .active && !s.cancelAtPeriodEnd ? changeForm(s, plans: plans, csrf: csrf) : "")
        </article>
        """
    }

    /// A scheduled price change: what changes, when, what happens without an answer, and the two buttons.
    private static func priceChangeBanner(_ s: Subscription, csrf: String, zone: TimeZone) -> String {
        guard let pending = s.pendingPrice else { return "" }
        let e = HTML.escape
        let text = PriceChangeNotice.text(planName: s.plan.name, pending: pending, zone: zone)
        guard pending.isIncrease else { return "<div class=\"alert info\" id=\"price-change\">\(e(text))</div>" }
        let state = switch pending.consent {
        case .given: "동의함 — 새 요금으로 계속 이용합니다."
        case .declined: "동의하지 않음 — 새 요금 적용일 이후 첫 결제일에 구독이 종료됩니다."
        case .pending, .notRequired: "아직 답하지 않으셨습니다."
        }
        let action = "/account/subscriptions/\(e(s.id))/price-consent"
        return """
        <div class="alert warning" id="price-change" data-consent="\(e(pending.consent.rawValue))">
        <p>\(e(text))</p><p class="muted" id="price-consent-state">\(e(state))</p>
        <form method="post" action="\(action)" class="inline">\(csrf)<input type="hidden" name="agree" value="1"><button class="button primary" id="price-agree-button">새 요금에 동의</button></form>
        <form method="post" action="\(action)" class="inline">\(csrf)<input type="hidden" name="agree" value="0"><button class="button" id="price-decline-button">동의하지 않음</button></form>
        </div>
        """
    }

    private static func scheduledChange(_ s: Subscription, csrf: String, zone: TimeZone) -> String {
        guard let next = s.scheduledPlan else { return "" }
        let e = HTML.escape
        let when = s.endDate.map { Format.date($0, zone) } ?? ""
        return """
        <div class="alert info" id="scheduled-change">\(e(when))부터 \(e(next.name)) 요금제(\(e(next.pricePhrase)))로 바뀝니다.
        <form method="post" action="/account/subscriptions/\(e(s.id))/change/undo" class="inline">\(csrf)<button class="button" id="undo-change-button">변경 취소</button></form></div>
        """
    }

    /// Another plan: an upgrade on the same cycle now (the prorated difference is charged to the card), anything else at
    /// the period end.
    private static func changeForm(_ s: Subscription, plans: [Plan], csrf: String) -> String {
        let others = plans.filter { $0.id != s.plan.id && $0.id != s.scheduledPlan?.id }
        guard !others.isEmpty else { return "" }
        let e = HTML.escape
        let options = others.map { "<option value=\"\(e($0.id))\">\(e($0.name)) · \(e($0.pricePhrase))</option>" }.joined()
        let cardNote = s.hasCard ? "" : " 지금 바꾸려면 먼저 카드를 등록해 주세요."
        return """
        <form method="post" action="/account/subscriptions/\(e(s.id))/change" class="change-plan" id="change-plan-form">\(csrf)
        <label>요금제 변경 <select name="plan_id" id="change-plan-select">\(options)</select></label>
        <button class="button" id="change-plan-button">변경</button>
        <p class="muted">같은 결제 주기의 상위 요금제는 바로 바뀌고 남은 기간의 차액만 결제됩니다. 그 밖의 변경은 현재 결제 기간이 끝날 때 적용됩니다.\(e(cardNote))</p>
        </form>
        """
    }

    private static func invoicesTable(_ invoices: [Invoice], _ exchange: Exchange) -> String {
        let shown = invoices.filter { $0.status != .void || $0.paidPaymentID != nil }
        guard !shown.isEmpty else { return "<p class=\"muted\">청구서가 없습니다.</p>" }
        let e = HTML.escape
        let rows = shown.map { invoice in
            let period = invoice.periodStart.map { start in
                "\(Format.date(start, exchange.zone)) ~ \(invoice.periodEnd.map { Format.date($0.addingTimeInterval(-1), exchange.zone) } ?? "")"
            } ?? "-"
            return "<tr data-invoice-id=\"\(e(invoice.id))\"><td><a href=\"/invoices/\(e(invoice.id))\">\(e(invoice.number))</a></td><td>\(e(invoice.planName))</td><td>\(e(period))</td><td class=\"num\">\(e(Won.format(invoice.total)))</td><td><span class=\"badge invoice-\(e(invoice.status.rawValue))\">\(e(invoice.status.koreanLabel))</span></td></tr>"
        }.joined()
        return "<table class=\"table\" id=\"invoices\"><thead><tr><th>번호</th><th>요금제</th><th>이용 기간</th><th>합계</th><th>상태</th></tr></thead><tbody>\(rows)</tbody></table>"
    }

    private static func paymentsTable(_ payments: [Payment], _ exchange: Exchange) -> String {
        guard !payments.isEmpty else { return "<p class=\"muted\">결제 내역이 없습니다.</p>" }
        let e = HTML.escape
        let rows = payments.map { p in
            let receipt = p.receiptURL.map { "<a href=\"\(e($0))\" target=\"_blank\" rel=\"noopener\">영수증</a>" } ?? ""
            let when = Format.dateTime(p.paidAt ?? p.createdAt, exchange.zone)
            let reason = p.failureReason.map { "<br><span class=\"muted\">\(e($0))</span>" } ?? ""
            return "<tr data-order-id=\"\(e(p.orderID))\"><td>\(e(when))</td><td>\(e(p.orderName))</td><td class=\"num\">\(e(Won.format(p.amount)))</td><td><span class=\"badge payment-\(e(p.status.rawValue))\">\(e(p.status.koreanLabel))</span>\(reason)</td><td>\(receipt)</td></tr>"
        }.joined()
        return "<table class=\"table\" id=\"payments\"><thead><tr><th>일시</th><th>내용</th><th>금액</th><th>상태</th><th></th></tr></thead><tbody>\(rows)</tbody></table>"
    }
}
