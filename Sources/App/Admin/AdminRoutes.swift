/// The back office: `/admin` pages and the `/api/admin` JSON API, staff only (others get 404).
enum AdminRoutes {
    static func register(_ table: inout RouteTable) {
        AdminAPI.register(&table)
        AdminDashboardPage.register(&table)
        AdminPlanPages.register(&table)
        AdminCouponPages.register(&table)
        AdminSubscriptionPages.register(&table)
        AdminPaymentPages.register(&table)
        AdminUserPages.register(&table)
        AdminWebhookPages.register(&table)
    }
}
