import Foundation
import Web

/// `/api/subscriptions/*`: the seed's routes, kept compatible (docs/api.md#subscriptions-api).
enum SubscriptionsAPI {
    static func register(_ table: inout RouteTable) {
        table.api("POST", "/api/subscriptions/subscribe", .signedIn, summary: "Start a subscription (PENDING)",
                  doc: APIDoc(request: "SubscribeRequest", responses: [(201, "Subscription"), (401, "Error"), (404, "Error"), (409, "Error")])) { exchange in
            let body = try JSONBody(exchange.request)
            let subscription = try exchange.subscriptions.subscribe(user: try exchange.requireUser(), planID: try body.string("plan_id"),
                                                                    customerKey: try body.optionalString("customer_key"),
                                                                    coupon: try body.optionalString("coupon"))
            return .json(subscription.json(zone: exchange.zone), status: 201)
        }
        table.api("POST", "/api/subscriptions/{subscription_id}/checkout", .signedIn, summary: "Create the first-period order",
                  doc: APIDoc(responses: [(201, "CheckoutOrder"), (401, "Error"), (404, "Error"), (409, "Error")])) { exchange in
            let checkout = try exchange.subscriptions.checkout(user: try exchange.requireUser(), subscriptionID: try exchange.pathParameter("subscription_id"))
            return .json(checkoutJSON(checkout, exchange), status: 201)
        }
        table.api("POST", "/api/subscriptions/payments/confirm", .signedIn, summary: "Confirm a payment-window payment",
                  doc: APIDoc(request: "ConfirmRequest", responses: [(200, "Payment"), (400, "Error"), (401, "Error"), (404, "Error"), (502, "Error")])) { exchange in
            let body = try JSONBody(exchange.request)
            let payment = try exchange.subscriptions.confirm(user: try exchange.requireUser(), paymentKey: try body.string("payment_key"),
                                                             orderID: try body.string("order_id"), amount: try body.integerOrDigits("amount"))
            return .json(payment.json(zone: exchange.zone))
        }
        table.api("POST", "/api/subscriptions/billing/issue", .signedIn, summary: "Register a card (billing key)",
                  doc: APIDoc(request: "BillingIssueRequest", responses: [(200, "BillingIssueResponse"), (400, "Error"), (401, "Error"), (404, "Error"), (502, "Error")])) { exchange in
            let body = try JSONBody(exchange.request)
            let subscription = try exchange.subscriptions.issueBillingKey(user: try exchange.requireUser(), customerKey: try body.string("customer_key"),
                                                                          authKey: try body.string("auth_key"))
            return .json(["subscription": subscription.json(zone: exchange.zone), "card": subscription.cardJSON])
        }
        table.api("GET", "/api/subscriptions/my-subscriptions", .signedIn, summary: "The user's subscriptions", doc: APIDoc(responses: [(200, "SubscriptionList"), (401, "Error")])) { exchange in
            let user = try exchange.requireUser()
            let list = try exchange.withDatabase { try SubscriptionRepository(connection: $0).forUser(user.id) }
            return .json(.array(list.map { $0.json(zone: exchange.zone) }))
        }
        table.api("POST", "/api/subscriptions/cancel/{subscription_id}", .signedIn, summary: "Cancel at period end or now",
                  doc: APIDoc(request: "CancelRequest", responses: [(200, "SubscriptionMessage"), (400, "Error"), (401, "Error"), (404, "Error")])) { exchange in
            let body = exchange.request.body.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 })
                ? JSONBody(object: [:]) : try JSONBody(exchange.request)
            let atPeriodEnd = try body.optionalBool("at_period_end") ?? true
            let subscription = try exchange.subscriptions.cancel(user: try exchange.requireUser(), subscriptionID: try exchange.pathParameter("subscription_id"),
                                                                 atPeriodEnd: atPeriodEnd)
            let message = subscription.status == .cancelled ? "구독이 해지되었습니다." : "현재 결제 기간이 끝나면 구독이 해지됩니다."
            return .json(["message": .string(message), "subscription": subscription.json(zone: exchange.zone)])
        }
        table.api("POST", "/api/subscriptions/{subscription_id}/resume", .signedIn, summary: "Undo a pending cancel",
                  doc: APIDoc(responses: [(200, "SubscriptionMessage"), (400, "Error"), (401, "Error"), (404, "Error")])) { exchange in
            let subscription = try exchange.subscriptions.resume(user: try exchange.requireUser(), subscriptionID: try exchange.pathParameter("subscription_id"))
            return .json(["message": "해지 예약이 취소되었습니다.", "subscription": subscription.json(zone: exchange.zone)])
        }
        table.api("GET", "/api/subscriptions/payments", .signedIn, summary: "The user's payments", doc: APIDoc(responses: [(200, "PaymentList"), (401, "Error")])) { exchange in
            let user = try exchange.requireUser()
            let list = try exchange.withDatabase { try PaymentRepository(connection: $0).forUser(user.id) }
            return .json(.array(list.map { $0.json(zone: exchange.zone) }))
        }
        registerPlanChanges(&table)
        PaymentRedirects.register(&table)
    }

    /// Plan changes and answers to price changes (docs/api.md#plan-changes).
    private static func registerPlanChanges(_ table: inout RouteTable) {
        table.api("POST", "/api/subscriptions/{subscription_id}/change", .signedIn, summary: "Change plan now (prorated) or at period end",
                  doc: APIDoc(request: "ChangeRequest", responses: [(200, "Subscription"), (400, "Error"), (401, "Error"), (404, "Error"), (409, "Error"), (502, "Error")])) { exchange in
            let body = try JSONBody(exchange.request)
            let when = try body.optionalString("when").map { text in
                guard let when = PlanChanges.When(rawValue: text) else {
                    throw HTTPError.badRequest("when은 \"now\" 또는 \"period_end\"여야 합니다.", code: "INVALID_FIELD")
                }
                return when
            }
            let subscription = try exchange.planChanges.change(user: try exchange.requireUser(), subscriptionID: try exchange.pathParameter("subscription_id"),
                                                               planID: try body.string("plan_id"), when: when)
            return .json(subscription.json(zone: exchange.zone))
        }
        table.api("DELETE", "/api/subscriptions/{subscription_id}/change", .signedIn, summary: "Undo a scheduled plan change",
                  doc: APIDoc(responses: [(200, "Subscription"), (401, "Error"), (404, "Error")])) { exchange in
            let subscription = try exchange.planChanges.undo(user: try exchange.requireUser(), subscriptionID: try exchange.pathParameter("subscription_id"))
            return .json(subscription.json(zone: exchange.zone))
        }
        table.api("POST", "/api/subscriptions/{subscription_id}/coupon", .signedIn, summary: "Apply a coupon from the next invoice on",
                  doc: APIDoc(request: "CouponRequest", responses: [(200, "Subscription"), (400, "Error"), (401, "Error"), (404, "Error"), (409, "Error")])) { exchange in
            let body = try JSONBody(exchange.request)
            let subscription = try exchange.coupons.apply(subscriptionID: try exchange.pathParameter("subscription_id"), code: try body.string("code"),
                                                          userID: try exchange.requireUser().id)
            return .json(subscription.json(zone: exchange.zone))
        }
        table.api("POST", "/api/subscriptions/{subscription_id}/price-consent", .signedIn, summary: "Agree to (or decline) a scheduled price increase",
                  doc: APIDoc(request: "PriceConsentRequest", responses: [(200, "Subscription"), (400, "Error"), (401, "Error"), (404, "Error"), (409, "Error")])) { exchange in
            let body = try JSONBody(exchange.request)
            guard let agree = try body.optionalBool("agree") else { throw HTTPError.badRequest("필수 항목 'agree'이(가) 없습니다.", code: "MISSING_FIELD") }
            let subscription = try exchange.priceChanges.answer(user: try exchange.requireUser(), subscriptionID: try exchange.pathParameter("subscription_id"),
                                                                agree: agree, ip: exchange.request.remoteAddress)
            return .json(subscription.json(zone: exchange.zone))
        }
    }

    static func checkoutJSON(_ checkout: SubscriptionService.Checkout, _ exchange: Exchange) -> JSON {
        ["order_id": .string(checkout.orderID), "invoice_id": .string(checkout.invoiceID), "amount": .int(checkout.amount), "order_name": .string(checkout.orderName),
         "customer_key": .string(checkout.customerKey), "client_key": .string(exchange.app.configuration.tossClientKey),
         "success_url": .string(exchange.publicOrigin + "/api/subscriptions/payments/success"),
         "fail_url": .string(exchange.publicOrigin + "/api/subscriptions/payments/fail")]
    }
}

extension Exchange {
    var zone: TimeZone { app.configuration.timeZone }
    var publicOrigin: String { app.configuration.publicURL ?? request.origin }
}
