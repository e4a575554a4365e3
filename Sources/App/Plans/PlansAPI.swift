import Web

enum PlansAPI {
    static func register(_ table: inout RouteTable) {
        table.api("GET", "/api/subscriptions/plans", summary: "Active plans", doc: APIDoc(responses: [(200, "PlanList")])) { exchange in
            let plans = try exchange.app.services.planCatalogue.active(exchange.app.database)
            return .json(.array(plans.map(\.json)))
        }
    }
}
