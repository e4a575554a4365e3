import Foundation
import Web

/// `/api/admin/*`: the back office as JSON for staff (session + CSRF). Same `AdminService` as the pages.
enum AdminAPI {
    static let listQuery = ["q", "status", "plan_type", "cycle", "method", "from", "to", "sort", "page"]

    static func register(_ table: inout RouteTable) {
        table.api("GET", "/api/admin/dashboard", .staff, summary: "Back office: dashboard figures") { exchange in
            .json(try exchange.admin.dashboard().json(zone: exchange.zone))
        }
        registerLists(&table)
        registerPlans(&table)
        registerCoupons(&table)
        table.api("POST", "/api/admin/payments/{payment_id}/refund", .staff, summary: "Back office: refund a payment (full or partial) through Toss",
                  doc: APIDoc(responses: [(200, "Payment"), (400, "Error"), (404, "Error"), (409, "Error"), (502, "Error")])) { exchange in
            let body = try JSONBody(exchange.request)
            var command = AdminService.RefundCommand(amount: try body.optionalInt("amount"), reason: try body.optionalString("reason") ?? "")
            command.cancelSubscription = try body.optionalBool("cancel_subscription") ?? false
            command.expectedRefunded = try body.optionalInt("expected_refunded_amount")
            let result = try exchange.admin.refund(paymentID: try exchange.pathParameter("payment_id"), command)
            return .json(result.payment.json(zone: exchange.zone))
        }
        table.api("POST", "/api/admin/subscriptions/{subscription_id}/cancel", .staff, summary: "Back office: cancel a subscription now") { exchange in
            let body = try optionalBody(exchange.request)
            let row = try exchange.admin.cancelSubscription(id: try exchange.pathParameter("subscription_id"), reason: try body.optionalString("reason") ?? "")
            return .json(row.json(zone: exchange.zone))
        }
    }

    private static func registerLists(_ table: inout RouteTable) {
        table.api("GET", "/api/admin/plans", .staff, summary: "Back office: plans", doc: APIDoc(query: listQuery)) { exchange in
            let request = try listRequest(exchange, .plans)
            return .json(try exchange.admin.plans(request).json { $0.json(zone: exchange.zone) })
        }
        table.api("GET", "/api/admin/subscriptions", .staff, summary: "Back office: subscriptions", doc: APIDoc(query: listQuery)) { exchange in
            let request = try listRequest(exchange, .subscriptions)
            return .json(try exchange.admin.subscriptions(request).json { $0.json(zone: exchange.zone) })
        }
        table.api("GET", "/api/admin/subscriptions/{subscription_id}", .staff, summary: "Back office: a subscription with periods, charges and timeline") { exchange in
            let detail = try exchange.admin.subscription(id: try exchange.pathParameter("subscription_id"))
            let zone = exchange.zone
            return .json(["subscription": detail.row.json(zone: zone), "periods": .array(detail.periods.map { $0.json(zone: zone) }),
                          "payments": .array(detail.payments.map { $0.json(zone: zone) }), "audit_log": .array(detail.audit.map { $0.json(zone: zone) }),
                          "timeline": .array(detail.timeline.map { $0.json(zone: zone) })])
        }
        table.api("GET", "/api/admin/payments", .staff, summary: "Back office: payments", doc: APIDoc(query: listQuery)) { exchange in
            let request = try listRequest(exchange, .payments)
            return .json(try exchange.admin.payments(request).json { $0.json(zone: exchange.zone) })
        }
        table.api("GET", "/api/admin/payments/{payment_id}", .staff, summary: "Back office: a payment with its Toss fields") { exchange in
            let detail = try exchange.admin.payment(id: try exchange.pathParameter("payment_id"))
            return .json(["payment": detail.row.json(zone: exchange.zone), "subscription": detail.subscription?.json(zone: exchange.zone) ?? .null,
                          "audit_log": .array(detail.audit.map { $0.json(zone: exchange.zone) })])
        }
        table.api("GET", "/api/admin/users", .staff, summary: "Back office: users", doc: APIDoc(query: listQuery + ["staff"])) { exchange in
            let request = try listRequest(exchange, .users)
            return .json(try exchange.admin.users(request).json { $0.json(zone: exchange.zone) })
        }
        table.api("GET", "/api/admin/users/{user_id}", .staff, summary: "Back office: a user with subscriptions and payments") { exchange in
            let detail = try exchange.admin.user(id: try exchange.pathParameter("user_id"))
            return .json(["user": detail.row.json(zone: exchange.zone), "subscriptions": .array(detail.subscriptions.map { $0.json(zone: exchange.zone) }),
                          "payments": .array(detail.payments.map { $0.json(zone: exchange.zone) })])
        }
        table.api("GET", "/api/admin/webhook-events", .staff, summary: "Back office: received Toss webhook events",
                  doc: APIDoc(query: ["q", "type", "status", "from", "to", "sort", "page"])) { exchange in
            let request = try listRequest(exchange, .webhookEvents)
            return .json(try exchange.admin.webhookEvents(request).json { $0.json(zone: exchange.zone) })
        }
        table.api("GET", "/api/admin/webhook-events/{event_id}", .staff, summary: "Back office: one webhook event with its (redacted) payload") { exchange in
            .json(try exchange.admin.webhookEvent(id: try exchange.pathParameter("event_id")).json(zone: exchange.zone))
        }
    }

    private static func registerCoupons(_ table: inout RouteTable) {
        table.api("GET", "/api/admin/coupons", .staff, summary: "Back office: coupons with their redemption counts",
                  doc: APIDoc(responses: [(200, "CouponList")])) { exchange in
            .json(.array(try exchange.withDatabase { try CouponRepository(connection: $0).all() }.map { $0.json(zone: exchange.zone) }))
        }
        table.api("POST", "/api/admin/coupons", .staff, summary: "Back office: make a coupon",
                  doc: APIDoc(request: "CouponCreateRequest", responses: [(201, "Coupon"), (400, "Error"), (404, "Error"), (409, "Error")])) { exchange in
            let draft = try couponDraft(JSONBody(exchange.request), zone: exchange.zone)
            return .json(try exchange.coupons.create(draft, staffID: try exchange.requireUser().id).json(zone: exchange.zone), status: 201)
        }
        table.api("POST", "/api/admin/coupons/{coupon_id}/deactivate", .staff, summary: "Back office: stop a coupon being redeemed",
                  doc: APIDoc(responses: [(200, "Coupon"), (404, "Error")])) { exchange in
            .json(try exchange.coupons.setActive(id: try exchange.pathParameter("coupon_id"), false, staffID: try exchange.requireUser().id)
                .json(zone: exchange.zone))
        }
        table.api("POST", "/api/admin/subscriptions/{subscription_id}/coupon", .staff, summary: "Back office: apply a coupon to a subscription",
                  doc: APIDoc(request: "CouponRequest", responses: [(200, "Subscription"), (400, "Error"), (404, "Error"), (409, "Error")])) { exchange in
            let body = try JSONBody(exchange.request)
            let subscription = try exchange.coupons.apply(subscriptionID: try exchange.pathParameter("subscription_id"), code: try body.string("code"),
                                                          userID: nil, staffID: try exchange.requireUser().id)
            return .json(subscription.json(zone: exchange.zone))
        }
    }

    /// `{code, name?, percent_off? | amount_off?, duration, duration_periods?, max_redemptions?, expires_at?, plan_ids?}`.
    static func couponDraft(_ body: JSONBody, zone: TimeZone) throws -> CouponDraft {
        let expiresAt = try body.optionalString("expires_at").map { text in
            guard let date = RFC3339.parse(text, defaultZone: zone) else { throw HTTPError.badRequest("expires_at은 RFC 3339 시각이어야 합니다.", code: "INVALID_FIELD") }
            return date
        }
        let planIDs = body.object["plan_ids"]?.arrayValue?.compactMap(\.stringValue) ?? []
        return try CouponDraft(code: try body.string("code"), name: try body.optionalString("name") ?? "", percentOff: try body.optionalInt("percent_off"),
                               amountOff: try body.optionalInt("amount_off"), duration: try body.string("duration"),
                               durationPeriods: try body.optionalInt("duration_periods"), maxRedemptions: try body.optionalInt("max_redemptions"),
                               expiresAt: expiresAt, planIDs: planIDs)
    }

    private static func registerPlans(_ table: inout RouteTable) {
        table.api("POST", "/api/admin/plans", .staff, summary: "Back office: create a plan",
                  doc: APIDoc(responses: [(201, "AdminPlan"), (400, "Error")])) { exchange in
            let draft = try PlanDraft(json: try JSONBody(exchange.request))
            return .json(try exchange.admin.createPlan(draft).json(zone: exchange.zone), status: 201)
        }
        table.api("GET", "/api/admin/plans/{plan_id}", .staff, summary: "Back office: a plan with its audit log") { exchange in
            let detail = try exchange.admin.plan(id: try exchange.pathParameter("plan_id"))
            return .json(["plan": detail.row.json(zone: exchange.zone), "audit_log": .array(detail.audit.map { $0.json(zone: exchange.zone) })])
        }
        table.api("POST", "/api/admin/plans/{plan_id}", .staff, summary: "Back office: edit a plan (a new price applies to new subscribers)",
                  doc: APIDoc(responses: [(200, "AdminPlan"), (400, "Error"), (404, "Error"), (409, "Error")])) { exchange in
            let draft = try PlanDraft(json: try JSONBody(exchange.request))
            return .json(try exchange.admin.updatePlan(id: try exchange.pathParameter("plan_id"), draft).json(zone: exchange.zone))
        }
        table.api("POST", "/api/admin/plans/{plan_id}/deactivate", .staff, summary: "Back office: hide a plan from sale",
                  doc: APIDoc(responses: [(200, "AdminPlan"), (404, "Error")])) { exchange in
            .json(try exchange.admin.setPlanActive(id: try exchange.pathParameter("plan_id"), false).json(zone: exchange.zone))
        }
        table.api("POST", "/api/admin/plans/{plan_id}/activate", .staff, summary: "Back office: put a plan back on sale",
                  doc: APIDoc(responses: [(200, "AdminPlan"), (404, "Error")])) { exchange in
            .json(try exchange.admin.setPlanActive(id: try exchange.pathParameter("plan_id"), true).json(zone: exchange.zone))
        }
        table.api("GET", "/api/admin/plans/{plan_id}/price-changes", .staff, summary: "Back office: a plan's price changes with consent progress",
                  doc: APIDoc(responses: [(200, "PriceChangeList"), (404, "Error")])) { exchange in
            let changes = try exchange.withDatabase { try PriceChangeRepository(connection: $0).forPlan(try exchange.pathParameter("plan_id")) }
            return .json(.array(changes.map { $0.json(zone: exchange.zone) }))
        }
        table.api("POST", "/api/admin/plans/{plan_id}/price-changes", .staff, summary: "Back office: schedule a price change for current subscribers (≥ 30 days out)",
                  doc: APIDoc(request: "PriceChangeRequest", responses: [(201, "PriceChange"), (400, "Error"), (404, "Error"), (409, "Error")])) { exchange in
            let body = try JSONBody(exchange.request)
            let text = try body.string("effective_at")
            guard let effectiveAt = RFC3339.parse(text, defaultZone: exchange.zone) else {
                throw HTTPError.badRequest("effective_at은 RFC 3339 시각이어야 합니다 (예: 2027-01-15T00:00:00+09:00).", code: "INVALID_FIELD")
            }
            let change = try exchange.priceChanges.schedule(planID: try exchange.pathParameter("plan_id"), amount: try body.optionalInt("amount"),
                                                            effectiveAt: effectiveAt,
                                                            staffID: try exchange.requireUser().id)
            return .json(change.json(zone: exchange.zone), status: 201)
        }
        table.api("DELETE", "/api/admin/price-changes/{price_change_id}", .staff, summary: "Back office: withdraw a scheduled price change",
                  doc: APIDoc(responses: [(200, "PriceChange"), (404, "Error")])) { exchange in
            let change = try exchange.priceChanges.withdraw(id: try exchange.pathParameter("price_change_id"), staffID: try exchange.requireUser().id)
            return .json(change.json(zone: exchange.zone))
        }
        table.api("DELETE", "/api/admin/plans/{plan_id}", .staff, summary: "Back office: delete a plan no subscription uses",
                  doc: APIDoc(responses: [(204, nil), (404, "Error"), (409, "Error")])) { exchange in
            try exchange.admin.deletePlan(id: try exchange.pathParameter("plan_id"))
            return .noContent()
        }
    }

    private static func listRequest(_ exchange: Exchange, _ list: AdminList) throws -> AdminListRequest {
        try AdminListRequest.parse(exchange.request.query, list: list, zone: exchange.zone)
    }

    /// A body that may be empty (no options given).
    private static func optionalBody(_ request: HTTPRequest) throws -> JSONBody {
        request.body.allSatisfy { $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 } ? JSONBody(object: [:]) : try JSONBody(request)
    }
}
