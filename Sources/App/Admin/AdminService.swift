import Billing
import Foundation
import Storage
import Toss
import Web

/// The back office's reads and actions, shared by the staff JSON API and the `/admin` pages. Every action is written to
/// `audit_log` in the same transaction as the change it records.
struct AdminService {
    let database: Database
    let services: Services
    let logger: Logger
    let now: Date
    let zone: TimeZone
    let actor: User

    private func read<T>(_ body: (AdminListings) throws -> T) throws -> T {
        try database.withConnection { try body(AdminListings(connection: $0)) }
    }

    // MARK: lists

    func plans(_ request: AdminListRequest) throws -> AdminPage<AdminPlanRow> { try read { try $0.plans(request) } }
    func subscriptions(_ request: AdminListRequest) throws -> AdminPage<AdminSubscriptionRow> { try read { try $0.subscriptions(request) } }
    func payments(_ request: AdminListRequest) throws -> AdminPage<AdminPaymentRow> { try read { try $0.payments(request) } }
    func users(_ request: AdminListRequest) throws -> AdminPage<AdminUserRow> { try read { try $0.users(request) } }
    func webhookEvents(_ request: AdminListRequest) throws -> AdminPage<AdminWebhookEventRow> { try read { try $0.webhookEvents(request) } }

    func dashboard() throws -> DashboardFigures {
        try database.withConnection { try DashboardRepository(connection: $0).figures(window: DashboardWindow(now: now, zone: zone)) }
    }

    // MARK: details

    struct PlanDetail {
        let row: AdminPlanRow
        let audit: [AuditEntry]
        let priceChanges: [PriceChange]
    }

    func plan(id: String) throws -> PlanDetail {
        try database.withConnection { connection in
            guard let row = try AdminListings(connection: connection).plan(id: id) else { throw AdminError.planNotFound }
            return PlanDetail(row: row, audit: try AuditLogRepository(connection: connection).entries(for: [("plan", row.plan.id)]),
                              priceChanges: try PriceChangeRepository(connection: connection).forPlan(row.plan.id))
        }
    }

    struct SubscriptionDetail {
        let row: AdminSubscriptionRow
        let periods: [AdminPeriod]
        let payments: [AdminPaymentRow]
        let invoices: [Invoice]
        let audit: [AuditEntry]
        let timeline: [AdminTimelineEvent]
    }

    func subscription(id: String) throws -> SubscriptionDetail {
        try database.withConnection { connection in
            let listings = AdminListings(connection: connection)
            guard let row = try listings.subscription(id: id) else { throw AdminError.subscriptionNotFound }
            let payments = try listings.payments(subscriptionID: row.subscription.id)
            let objects = [("subscription", row.subscription.id)] + payments.prefix(500).map { ("payment", $0.payment.id) }
            let audit = try AuditLogRepository(connection: connection).entries(for: objects)
            return SubscriptionDetail(row: row, periods: AdminPeriod.periods(of: row.subscription, payments: payments.map(\.payment),
                                                                              calendar: services.calendar),
                                      payments: payments, invoices: try InvoiceRepository(connection: connection).forSubscription(row.subscription.id),
                                      audit: audit,
                                      timeline: AdminTimelineEvent.timeline(row.subscription, updatedAt: row.updatedAt,
                                                                            payments: payments.map(\.payment), audit: audit))
        }
    }

    struct PaymentDetail {
        let row: AdminPaymentRow
        let subscription: AdminSubscriptionRow?
        let audit: [AuditEntry]
    }

    func payment(id: String) throws -> PaymentDetail {
        try database.withConnection { connection in
            let listings = AdminListings(connection: connection)
            guard let row = try listings.payment(id: id) else { throw AdminError.paymentNotFound }
            return PaymentDetail(row: row, subscription: try listings.subscription(id: row.payment.subscriptionID),
                                 audit: try AuditLogRepository(connection: connection).entries(for: [("payment", row.payment.id)]))
        }
    }

    struct UserDetail {
        let row: AdminUserRow
        let subscriptions: [AdminSubscriptionRow]
        let payments: [AdminPaymentRow]
    }

    func user(id: String) throws -> UserDetail {
        try read { listings in
            guard let row = try listings.user(id: id) else { throw AdminError.userNotFound }
            return UserDetail(row: row, subscriptions: try listings.subscriptions(userID: row.id), payments: try listings.payments(userID: row.id, limit: 100))
        }
    }

    func webhookEvent(id: String) throws -> AdminWebhookEventRow {
        guard let row = try read({ try $0.webhookEvent(id: id) }) else { throw AdminError.eventNotFound }
        return row
    }

    // MARK: plans

    func createPlan(_ draft: PlanDraft) throws -> AdminPlanRow {
        defer { services.planCatalogue.invalidate() }
        let values = try draft.complete()
        return try database.withConnection { connection in
            try connection.transaction {
                let sortOrder = try PlanRepository(connection: connection).nextSortOrder()
                let plan = Plan(id: Identifier.make(), name: values.name, planType: values.planType, price: values.price, billingCycle: values.billingCycle,
                                features: values.features, isActive: values.isActive)
                try PlanRepository(connection: connection).insert(plan, sortOrder: sortOrder, now: now)
                try AuditLogRepository(connection: connection).record(actorID: actor.id, action: "plan.create", objectType: "plan", objectID: plan.id,
                                                                      before: nil, after: plan.json, now: now)
                return try listedPlan(plan.id, connection)
            }
        }
    }

    /// Applies the fields the draft sets. A new price applies from each subscription's next charge (charges read the plan's price then);
    /// a plan in use keeps its billing cycle, since its subscriptions' periods are counted in it.
    func updatePlan(id: String, _ draft: PlanDraft, action: String = "plan.update") throws -> AdminPlanRow {
        defer { services.planCatalogue.invalidate() }
        return try database.withConnection { connection in
            try connection.transaction {
                let plans = PlanRepository(connection: connection)
                guard let before = try plans.find(id: id) else { throw AdminError.planNotFound }
                let after = try draft.applied(to: before)
                if after.billingCycle != before.billingCycle, try plans.usageLockingPlan(id: before.id) > 0 {
                    throw AdminError.planInUse("이 요금제를 쓰는 구독이 있어 결제 주기를 바꿀 수 없습니다. 새 요금제를 만드세요.")
                }
                if after != before {
                    try plans.update(after, now: now)
                    try AuditLogRepository(connection: connection).record(actorID: actor.id, action: action, objectType: "plan", objectID: before.id,
                                                                          before: before.json, after: after.json, now: now)
                }
                return try listedPlan(before.id, connection)
            }
        }
    }

    func setPlanActive(id: String, _ active: Bool) throws -> AdminPlanRow {
        var draft = PlanDraft()
        draft.isActive = active
        return try updatePlan(id: id, draft, action: active ? "plan.activate" : "plan.deactivate")
    }

    /// Only a plan no subscription has ever used may be deleted; others are deactivated instead.
    func deletePlan(id: String) throws {
        defer { services.planCatalogue.invalidate() }
        try database.withConnection { connection in
            try connection.transaction {
                guard let plan = try PlanRepository(connection: connection).find(id: id) else { throw AdminError.planNotFound }
                let used = try PlanRepository(connection: connection).usageLockingPlan(id: plan.id)
                guard used == 0 else {
                    throw AdminError.planInUse("이 요금제를 쓴 구독이 \(used)개 있어 삭제할 수 없습니다. 대신 비활성화하세요.")
                }
                do {
                    try PlanRepository(connection: connection).delete(id: plan.id)
                } catch let error as DatabaseError where error.kind == .constraint {
                    throw AdminError.planInUse("이 요금제를 쓰는 구독이 있어 삭제할 수 없습니다. 대신 비활성화하세요.")
                }
                try AuditLogRepository(connection: connection).record(actorID: actor.id, action: "plan.delete", objectType: "plan", objectID: plan.id,
                                                                      before: plan.json, after: nil, now: now)
            }
        }
    }

    private func listedPlan(_ id: String, _ connection: DatabaseConnection) throws -> AdminPlanRow {
        guard let row = try AdminListings(connection: connection).plan(id: id) else { throw AdminError.planNotFound }
        return row
    }

    // MARK: refunds

    struct RefundCommand {
        /// nil refunds everything left.
        var amount: Int?
        var reason: String
        var cancelSubscription = false
        /// The refunded amount the form showed; a different one means the payment moved since (e.g. a double submit).
        var expectedRefunded: Int?
    }

    struct RefundResult {
        let payment: Payment
        let refunded: Int
        let subscriptionCancelled: Bool
    }

    /// Refunds through Toss's cancel API. Refusals (over-refund, wrong status, no payment key) happen before Toss is called;
    /// Toss unreachable leaves everything as it was, and the same request sent again carries the same idempotency key.
    func refund(paymentID: String, _ command: RefundCommand) throws -> RefundResult {
        guard let reason = RefundRules.reason(command.reason) else { throw AdminError.invalidRefundReason }
        guard let payment = try database.withConnection({ try PaymentRepository(connection: $0).find(id: paymentID) }) else {
            throw AdminError.paymentNotFound
        }
        if let expected = command.expectedRefunded, expected != payment.refundedAmount { throw AdminError.refundConflict }
        let amount = try RefundRules.amount(status: payment.status, hasPaymentKey: payment.paymentKey != nil, total: payment.amount,
                                            refunded: payment.refundedAmount, requested: command.amount).get()
        let key = RefundRules.idempotencyKey(paymentID: payment.id, refundedBefore: payment.refundedAmount, amount: amount)
        // RefundRules refuses a payment without a payment key; this only restates it for the compiler.
        guard let paymentKey = payment.paymentKey else { throw AdminError.paymentNotFound }
        let answer: TossPayment
        do {
            answer = try services.toss.cancelPayment(paymentKey: paymentKey, reason: reason, amount: amount, idempotencyKey: key)
        } catch {
            logger.info("refund_refused", ["payment_id": .string(payment.id), "code": .string(error.code)])
            switch error.kind {
            case .transient, .ambiguous, .configuration: throw AdminError.pgUnavailable(code: error.code)
            case .declined, .invalidRequest, .notFound, .alreadyProcessed: throw AdminError.tossRefused(code: error.code, message: error.message)
            }
        }
        let settled = RefundRules.settled(totalAmount: answer.totalAmount, balanceAmount: answer.balanceAmount)
        let (updated, cancelled) = try database.withConnection { connection in
            try connection.transaction { () -> (Payment, Bool) in
                let payments = PaymentRepository(connection: connection)
                let audit = AuditLogRepository(connection: connection)
                guard let current = try payments.find(id: payment.id) else { throw AdminError.paymentNotFound }
                // Forward only: a webhook may have recorded this refund first.
                let refunded = max(current.refundedAmount, settled.refunded)
                let status: PaymentStatus = refunded >= current.amount ? .cancelled : (refunded > 0 ? .partialCancelled : current.status)
                _ = try payments.recordRefund(id: current.id, refunded: refunded, tossStatus: answer.status, transactionKey: answer.lastTransactionKey,
                                              now: now)
                let recorded = try audit.entries(for: [("payment", current.id)]).contains { $0.after?["idempotency_key"]?.stringValue == key }
                if !recorded {
                    try audit.record(actorID: actor.id, action: "payment.refund", objectType: "payment", objectID: current.id,
                                     before: ["status": .string(current.status.rawValue), "refunded_amount": .int(current.refundedAmount)],
                                     after: ["status": .string(status.rawValue), "refunded_amount": .int(refunded), "refund_amount": .int(amount),
                                             "reason": .string(reason), "idempotency_key": .string(key)],
                                     now: now)
                }
                var cancelled = false
                if command.cancelSubscription,
                   let subscription = try SubscriptionRepository(connection: connection).find(id: current.subscriptionID), !subscription.status.isFinal {
                    try cancelNow(subscription, reason: reason, connection)
                    cancelled = true
                }
                guard let refreshed = try payments.find(id: current.id) else { throw AdminError.paymentNotFound }
                return (refreshed, cancelled)
            }
        }
        logger.info("refund", ["payment_id": .string(payment.id), "amount": .int(amount), "refunded_amount": .int(updated.refundedAmount),
                               "status": .string(updated.status.rawValue), "subscription_cancelled": .bool(cancelled)])
        return RefundResult(payment: updated, refunded: amount, subscriptionCancelled: cancelled)
    }

    // MARK: subscriptions

    /// Ends a subscription at once (CANCELLED, no further charge).
    func cancelSubscription(id: String, reason: String) throws -> AdminSubscriptionRow {
        let reason = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard reason.count <= 200 else { throw AdminError.invalidField(name: "reason", message: "해지 사유는 200자 이하로 입력하세요.") }
        return try database.withConnection { connection in
            try connection.transaction {
                guard let subscription = try SubscriptionRepository(connection: connection).find(id: id) else { throw AdminError.subscriptionNotFound }
                guard !subscription.status.isFinal else { throw AdminError.subscriptionNotCancellable }
                try cancelNow(subscription, reason: reason.isEmpty ? nil : reason, connection)
                guard let row = try AdminListings(connection: connection).subscription(id: subscription.id) else { throw AdminError.subscriptionNotFound }
                return row
            }
        }
    }

    private func cancelNow(_ subscription: Subscription, reason: String?, _ connection: DatabaseConnection) throws {
        try SubscriptionRepository(connection: connection).lock(id: subscription.id)
        let lifecycle = SubscriptionLifecycle(connection: connection, services: services, now: now)
        guard case .applied(let next) = try lifecycle.apply(.cancelNow(at: now), toSubscriptionID: subscription.id, adjust: { $0.endDate = now }) else {
            throw AdminError.subscriptionNotCancellable
        }
        func snapshot(_ s: Subscription) -> JSON {
            ["status": .string(s.status.rawValue), "next_billing_date": s.nextBillingDate.map { .int(Int($0.unixSeconds)) } ?? .null,
             "end_date": s.endDate.map { .int(Int($0.unixSeconds)) } ?? .null, "cancelled_at": s.cancelledAt.map { .int(Int($0.unixSeconds)) } ?? .null]
        }
        var after = snapshot(next)
        if let reason, case .object(var object) = after {
            object["reason"] = .string(reason)
            after = .object(object)
        }
        try AuditLogRepository(connection: connection).record(actorID: actor.id, action: "subscription.cancel", objectType: "subscription",
                                                              objectID: subscription.id, before: snapshot(subscription), after: after, now: now)
    }
}

extension Exchange {
    var admin: AdminService {
        get throws {
            AdminService(database: app.database, services: app.services, logger: app.logger, now: now, zone: zone, actor: try requireUser())
        }
    }
}
