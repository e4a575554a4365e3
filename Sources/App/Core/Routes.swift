import Web

extension Application {
    static func registerRoutes(_ table: inout RouteTable) {
        table.api("GET", "/healthz", summary: "Health check", doc: APIDoc(responses: [(200, "Health"), (503, "Health")])) { exchange in
            do {
                _ = try exchange.withDatabase { try $0.query("SELECT 1 AS ok", []) }
                return .json(["status": "ok"])
            } catch {
                return .json(["status": "unavailable", "code": "DATABASE_UNAVAILABLE", "message": "데이터베이스에 연결할 수 없습니다."], status: 503)
            }
        }
        PlansAPI.register(&table)
        AuthAPI.register(&table)
        AccountPages.register(&table)
        PricingPage.register(&table)
        SubscriptionsAPI.register(&table)
        CheckoutPage.register(&table)
        AccountPage.register(&table)
        InvoicesAPI.register(&table)
        WebhooksAPI.register(&table)
        MetricsAPI.register(&table)
        APIDocsPage.register(&table)
        AdminRoutes.register(&table)
    }
}
