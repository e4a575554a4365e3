import Billing
import Web

/// `/checkout/{plan_id}`: the seed's payment page, with amounts and ids from the server and the SDK loaded from TOSS_JS_SDK_URL.
enum CheckoutPage {
    static func register(_ table: inout RouteTable) {
        table.page("GET", "/checkout/{plan_id}", .signedIn, summary: "Checkout page") { exchange in
            let user = try exchange.requireUser()
            guard let plan = try exchange.withDatabase({ try PlanRepository(connection: $0).find(id: try exchange.pathParameter("plan_id")) }), plan.isActive else {
                throw HTTPError.notFound("요금제를 찾을 수 없습니다.", code: "PLAN_NOT_FOUND")
            }
            let current = try exchange.withDatabase { try SubscriptionRepository(connection: $0).forUser(user.id) }
                .first { $0.status.isOngoing }
            let e = HTML.escape
            let config = exchange.app.configuration
            let origin = exchange.publicOrigin
            let notice = current.map {
                "<div class=\"alert info\">이미 <strong>\(e($0.plan.name))</strong> 구독을 이용 중입니다. <a href=\"/account\">내 구독</a>에서 관리하세요.</div>"
            } ?? ""
            let body = """
            <section class="card checkout" id="checkout"
              data-plan-id="\(e(plan.id))" data-client-key="\(e(config.tossClientKey))"
              data-customer-email="\(e(user.email))" data-customer-name="\(e(user.username))"
              data-payment-success-url="\(e(origin))/api/subscriptions/payments/success" data-payment-fail-url="\(e(origin))/api/subscriptions/payments/fail"
              data-billing-success-url="\(e(origin))/api/subscriptions/billing/success" data-billing-fail-url="\(e(origin))/api/subscriptions/billing/fail">
            <h1>\(e(plan.name)) 구독</h1>
            <p class="price" id="plan-price">\(e(plan.pricePhrase))</p>
            <ul class="features">\(plan.features.map { "<li>\(e($0))</li>" }.joined())</ul>
            \(notice)
            <label class="field coupon">쿠폰 코드 (있으면)<input id="coupon-code" name="coupon" maxlength="40" autocomplete="off"></label>
            <div class="checkout-actions">
              <button id="payment-button" class="button primary" type="button">카드로 첫 \(e(plan.cycle.koreanUnit)) 결제하기</button>
              <button id="billing-button" class="button" type="button">카드 등록하고 자동결제 시작</button>
            </div>
            <p class="muted">자동결제를 선택하면 등록한 카드로 첫 결제가 바로 이루어지고, 이후 매 \(e(plan.cycle.koreanUnit))마다 \(e(Won.format(plan.price)))이 결제됩니다.</p>
            <div class="alert error hidden" id="checkout-error" role="alert"></div>
            </section>
            """
            let head = """
            <script src="\(e(config.tossJSSDKURL))"></script>
            <script src="/static/js/subscription.js" defer></script>
            <script src="/static/js/checkout.js" defer></script>
            """
            var response = HTTPResponse.html(Layout.page(title: "\(plan.name) 구독 결제", exchange, extraHead: head, body: body))
            response.addHeader("Content-Security-Policy", contentSecurityPolicy(sdkOrigin: config.tossJSSDKOrigin))
            return response
        }
    }

    /// Scripts only from this site and the Toss SDK's origin.
    static func contentSecurityPolicy(sdkOrigin: String) -> String {
        [
            "default-src 'self'",
            "script-src 'self' \(sdkOrigin)",
            "connect-src 'self' \(sdkOrigin)",
            "frame-src \(sdkOrigin)",
            "img-src 'self' data: \(sdkOrigin)",
            "style-src 'self' 'unsafe-inline'",
            "form-action 'self' \(sdkOrigin)",
            "base-uri 'self'",
            "object-src 'none'",
        ].joined(separator: "; ")
    }
}
