import Web

enum PricingPage {
    static func register(_ table: inout RouteTable) {
        table.page("GET", "/", summary: "Pricing page") { exchange in
            let plans = try exchange.app.services.planCatalogue.active(exchange.app.database)
            let e = HTML.escape
            let cards = plans.map { plan in
                """
                <article class="plan-card" data-plan-id="\(e(plan.id))" data-plan-type="\(e(plan.planType))">
                <h2>\(e(plan.name))</h2>
                <p class="cycle">\(e(CycleNames.label(plan.billingCycle))) 결제</p>
                <p class="price">\(e(plan.pricePhrase))</p>
                <ul class="features">\(plan.features.map { "<li>\(e($0))</li>" }.joined())</ul>
                <a class="button primary" href="/checkout/\(e(plan.id))">구독하기</a>
                </article>
                """
            }.joined(separator: "\n")
            let body = """
            <section class="hero"><h1>팀에 맞는 요금제를 고르세요</h1><p>언제든 해지할 수 있고, 해지해도 결제한 기간이 끝날 때까지 이용할 수 있습니다.</p></section>
            <section class="plans">\(cards.isEmpty ? "<p>지금 구독할 수 있는 요금제가 없습니다.</p>" : cards)</section>
            """
            return .html(Layout.page(title: "요금제", exchange, body: body))
        }
    }
}
