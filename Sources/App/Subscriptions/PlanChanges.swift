import Billing
import Foundation
import Storage
import Web

/// A customer's move to another plan (docs/billing.md#plan-changes). An upgrade on the same billing cycle happens now:
/// the anchor stays and a CHANGE invoice charges the prorated difference with the billing key at once; the plan switches
/// only when that charge is approved. A downgrade or a change of cycle waits for the end of the current period and can be
/// undone until then. A difference too small to charge (or a credit) is carried to the next period's invoice.
struct PlanChanges {
    let database: Database
    let services: Services
    let logger: Logger
    let now: Date

    enum When: String {
        case now
        case periodEnd = "period_end"
    }

    func change(user: User, subscriptionID: String, planID: String, when requested: When?) throws -> Subscription {
        let (subscription, plan) = try database.withConnection { connection -> (Subscription, Plan?) in
            guard let subscription = try SubscriptionRepository(connection: connection).find(id: subscriptionID, userID: user.id) else {
                throw SubscriptionError.subscriptionNotFound
            }
            return (subscription, try PlanRepository(connection: connection).find(id: planID))
        }
        guard subscription.status == .active else { throw SubscriptionError.notActive }
        guard let plan, plan.isActive else { throw SubscriptionError.planNotFound }
        if plan.id == subscription.plan.id {
            // Choosing the plan one is on while a move is scheduled keeps it: the move is undone.
            guard subscription.scheduledPlan != nil else { throw SubscriptionError.samePlan }
            return try undo(user: user, subscriptionID: subscriptionID)
        }
        let sameCycle = plan.cycle == subscription.cycle
        switch requested ?? (sameCycle && plan.price > subscription.price ? .now : .periodEnd) {
        case .periodEnd:
            return try schedule(subscription, to: plan)
        case .now:
            guard sameCycle else { throw SubscriptionError.cycleChangeAtPeriodEnd }
            return try changeNow(subscription, to: plan)
        }
    }

    /// Undoes a scheduled move; the subscription renews on its current plan.
    func undo(user: User, subscriptionID: String) throws -> Subscription {
        try write(subscriptionID: subscriptionID, userID: user.id) { current, connection in
            guard let scheduled = current.scheduledPlan else { throw SubscriptionError.noScheduledChange }
            guard try SubscriptionRepository(connection: connection).schedulePlan(current, planID: nil, now: now) else { return false }
            try audit("subscription.change_unscheduled", current, before: ["scheduled_plan_id": .string(scheduled.id)], after: [:], connection)
            return true
        }
    }

    // MARK: at period end

    private func schedule(_ subscription: Subscription, to plan: Plan) throws -> Subscription {
        try write(subscriptionID: subscription.id, userID: subscription.userID) { current, connection in
            guard current.status == .active else { throw SubscriptionError.notActive }
            guard try SubscriptionRepository(connection: connection).schedulePlan(current, planID: plan.id, now: now) else { return false }
            try audit("subscription.change_scheduled", current, before: ["plan_id": .string(current.plan.id)],
                      after: ["plan_id": .string(plan.id), "price": .int(plan.price), "at": .optional(current.endDate.map { RFC3339.format($0, in: services.calendar.timeZone) })],
                      connection)
            return true
        }
    }

    // MARK: now

    private func changeNow(_ subscription: Subscription, to plan: Plan) throws -> Subscription {
        guard let period = subscription.state.period(subscription.currentPeriodIndex, calendar: services.calendar, cycle: subscription.cycle),
              now < period.end else { throw SubscriptionError.renewalDue }
        let difference = Proration.difference(oldPrice: subscription.price, newPrice: plan.price, period: period, at: now)
        guard difference >= MinimumCharge.won else { return try switchCarrying(difference, subscription, to: plan) }
        guard let billingKey = subscription.sealedBillingKey.flatMap({ services.vault.open($0, subscriptionID: subscription.id) }) else {
            throw SubscriptionError.cardRequired
        }
        let orderName = "\(plan.name) 요금제 변경"
        let orderID = try recordChange(subscription, to: plan, period: period, difference: difference, orderName: orderName)
        let charger = Charger(database: database, services: services, logger: logger)
        let outcome = try charger.send(billingKey: billingKey, customerKey: subscription.customerKey, amount: difference, orderID: orderID,
                                       orderName: orderName, now: now)
        switch outcome {
        case .charged:
            return try reread(subscription.id)
        case .surplus:
            throw SubscriptionError.duplicateRefunded
        case .declined(let code, let message):
            throw SubscriptionError.changeDeclined(code: code, message: message)
        case .pending(let reason), .blocked(let reason):
            throw SubscriptionError.pgUnavailable(code: reason)
        }
    }

    /// The CHANGE invoice (the new plan frozen at its price, one PRORATION line) and its ONE_TIME payment, committed before
    /// Toss is called. A second change while one is open loses on the unique index: nothing is charged twice.
    private func recordChange(_ subscription: Subscription, to plan: Plan, period: BillingPeriod, difference: Int, orderName: String) throws -> String {
        try database.withConnection { connection in
            do {
                return try connection.transaction {
                    let subscriptions = SubscriptionRepository(connection: connection)
                    try subscriptions.lock(id: subscription.id)
                    guard let current = try subscriptions.find(id: subscription.id), current.version == subscription.version,
                          current.status == .active else { throw SubscriptionError.paymentInProgress }
                    let invoices = InvoiceRepository(connection: connection)
                    let days = Int((period.end.timeIntervalSince(now) / 86_400).rounded(.up))
                    let line = InvoiceLine(kind: .proration, description: "\(subscription.plan.name) → \(plan.name) 변경 차액 (남은 \(days)일)",
                                           amount: difference)
                    let draft = InvoiceRepository.Draft(subscriptionID: subscription.id, userID: subscription.userID, kind: .change,
                                                        periodIndex: subscription.currentPeriodIndex, plan: plan, periodStart: now,
                                                        periodEnd: period.end, lines: [line])
                    let invoice = try invoices.insert(draft, now: now, calendar: services.calendar)
                    let changes = try invoices.changeCount(subscriptionID: subscription.id)
                    let orderID = OrderID.change(invoiceID: invoice.id)
                    // Change payments number their attempts below zero, apart from the period's renewal attempts.
                    try PaymentRepository(connection: connection).insertPending(
                        subscription: subscription, invoiceID: invoice.id, orderID: orderID, orderName: orderName, amount: difference,
                        periodIndex: subscription.currentPeriodIndex, attempt: -changes, paymentKey: nil, type: Payment.oneTime, now: now)
                    return orderID
                }
            } catch let error as DatabaseError where error.isUniqueViolation {
                throw SubscriptionError.paymentInProgress
            }
        }
    }

    /// A change that costs less than the minimum charge (or gives credit) switches at once; the difference rides on the
    /// next period's invoice.
    private func switchCarrying(_ difference: Int, _ subscription: Subscription, to plan: Plan) throws -> Subscription {
        try write(subscriptionID: subscription.id, userID: subscription.userID) { current, connection in
            guard current.status == .active, current.version == subscription.version else { return false }
            let subscriptions = SubscriptionRepository(connection: connection)
            guard try subscriptions.moveBalance(id: current.id, expected: current.balance, by: difference) else { return false }
            try subscriptions.setPlan(id: current.id, planID: plan.id, price: plan.price)
            try audit("subscription.plan_changed", current, before: ["plan_id": .string(current.plan.id), "price": .int(current.price)],
                      after: ["plan_id": .string(plan.id), "price": .int(plan.price), "carried_to_next_invoice": .int(difference), "when": "now"],
                      connection)
            return true
        }
    }

    // MARK: helpers

    /// Runs `body` on the locked, freshly read subscription in one transaction; false from `body` means the row moved on
    /// since it was read (409, try again).
    private func write(subscriptionID: String, userID: String, _ body: (Subscription, DatabaseConnection) throws -> Bool) throws -> Subscription {
        try database.withConnection { connection in
            try connection.transaction {
                let subscriptions = SubscriptionRepository(connection: connection)
                guard try subscriptions.find(id: subscriptionID, userID: userID) != nil else { throw SubscriptionError.subscriptionNotFound }
                try subscriptions.lock(id: subscriptionID)
                guard let current = try subscriptions.find(id: subscriptionID) else { throw SubscriptionError.subscriptionNotFound }
                guard try body(current, connection) else { throw SubscriptionError.paymentInProgress }
                guard let saved = try subscriptions.find(id: subscriptionID) else { throw SubscriptionError.subscriptionNotFound }
                return saved
            }
        }
    }

    private func reread(_ id: String) throws -> Subscription {
        guard let subscription = try database.withConnection({ try SubscriptionRepository(connection: $0).find(id: id) }) else {
            throw SubscriptionError.subscriptionNotFound
        }
        return subscription
    }

    private func audit(_ action: String, _ subscription: Subscription, before: JSON, after: JSON, _ connection: DatabaseConnection) throws {
        try AuditLogRepository(connection: connection).record(actorID: subscription.userID, action: action, objectType: "subscription",
                                                              objectID: subscription.id, before: before, after: after, now: now)
    }
}

extension Exchange {
    var planChanges: PlanChanges { PlanChanges(database: app.database, services: app.services, logger: app.logger, now: now) }
}
