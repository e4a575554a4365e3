import Billing
import Foundation
import Storage
import Toss
import Web

/// The seed's subscription flows, done safely: server-made orders and amounts, idempotent confirm, billing keys sealed.
struct SubscriptionService {
    let database: Database
    let services: Services
    let logger: Logger
    let now: Date

    var charger: Charger { Charger(database: database, services: services, logger: logger) }

    static func isValidCustomerKey(_ key: String) -> Bool {
        (2...50).contains(key.utf8.count) && key.utf8.allSatisfy { byte in
            (byte >= 48 && byte <= 57) || (byte >= 65 && byte <= 90) || (byte >= 97 && byte <= 122) || "-_=.@".utf8.contains(byte)
        }
    }

    static func makeCustomerKey() -> String { "cus_" + Crypto.randomToken(bytes: 24) }

    // MARK: subscribe

    /// A new PENDING subscription, or the user's existing PENDING one (moved to the chosen plan).
    func subscribe(user: User, planID: String, customerKey: String?) throws -> Subscription {
        if let customerKey, !SubscriptionService.isValidCustomerKey(customerKey) { throw SubscriptionError.invalidCustomerKey }
        return try database.withConnection { connection in
            try connection.transaction {
                if connection.dialect == .postgres {
                    try connection.execute("SELECT id FROM users WHERE id = ? FOR UPDATE", [.text(user.id)])
                }
                guard let plan = try PlanRepository(connection: connection).find(id: planID), plan.isActive else { throw SubscriptionError.planNotFound }
                let subscriptions = SubscriptionRepository(connection: connection)
                let mine = try subscriptions.forUser(user.id)
                if mine.contains(where: { $0.status == .active || $0.status == .pastDue }) { throw SubscriptionError.alreadySubscribed }
                if let pending = mine.first(where: { $0.status == .pending }) {
                    if pending.plan.id != plan.id { try subscriptions.changePlan(id: pending.id, planID: plan.id, now: now) }
                    return try subscriptions.find(id: pending.id)!
                }
                let key = customerKey ?? SubscriptionService.makeCustomerKey()
                if customerKey != nil, try subscriptions.find(customerKey: key) != nil { throw SubscriptionError.customerKeyTaken }
                let id = Identifier.make()
                do {
                    try subscriptions.insert(id: id, userID: user.id, planID: plan.id, customerKey: key, now: now)
                } catch let error as DatabaseError where error.isUniqueViolation {
                    throw SubscriptionError.customerKeyTaken
                }
                return try subscriptions.find(id: id)!
            }
        }
    }

    // MARK: checkout

    struct Checkout {
        let orderID: String
        let amount: Int
        let orderName: String
        let customerKey: String
    }

    /// The server-side order for the first period: its id and amount come from here, never from the browser.
    func checkout(user: User, subscriptionID: String) throws -> Checkout {
        try database.withConnection { connection in
            guard let subscription = try SubscriptionRepository(connection: connection).find(id: subscriptionID, userID: user.id) else {
                throw SubscriptionError.subscriptionNotFound
            }
            guard subscription.status == .pending else { throw SubscriptionError.notPending }
            let orderID = Order.makeID()
            let orderName = "\(subscription.plan.name) \(CycleNames.label(subscription.plan.billingCycle)) 구독"
            try OrderRepository(connection: connection).insert(orderID: orderID, subscriptionID: subscription.id, userID: user.id,
                                                               amount: subscription.plan.price, orderName: orderName, purpose: "FIRST_PERIOD", now: now)
            return Checkout(orderID: orderID, amount: subscription.plan.price, orderName: orderName, customerKey: subscription.customerKey)
        }
    }

    // MARK: confirm

    /// Confirms a payment-window payment. Repeating a confirm that succeeded answers the same payment and charges nothing.
    func confirm(user: User, paymentKey: String, orderID: String, amount: Int) throws -> Payment {
        guard !paymentKey.isEmpty, paymentKey.utf8.count <= 200 else { throw HTTPError.badRequest("payment_key가 올바르지 않습니다.", code: "INVALID_FIELD") }
        let (order, existing, subscription) = try database.withConnection { connection -> (Order, Payment?, Subscription) in
            guard let order = try OrderRepository(connection: connection).find(orderID: orderID, userID: user.id),
                  let subscription = try SubscriptionRepository(connection: connection).find(id: order.subscriptionID) else {
                throw SubscriptionError.orderNotFound
            }
            return (order, try PaymentRepository(connection: connection).find(orderID: orderID), subscription)
        }
        guard amount == order.amount else { throw SubscriptionError.amountMismatch(expected: order.amount, given: amount) }
        if let existing {
            switch existing.status {
            case .completed, .cancelled, .partialCancelled:
                guard existing.paymentKey == paymentKey else { throw SubscriptionError.tossRefused(code: "ALREADY_PROCESSED_PAYMENT", message: "이미 처리된 결제입니다.") }
                return existing
            case .failed:
                throw SubscriptionError.tossRefused(code: existing.failureCode ?? "FAILED", message: existing.failureReason ?? "결제가 승인되지 않았습니다.")
            case .pending:
                break  // a previous confirm got no answer: ask again with the same idempotency key
            }
        } else {
            // Another order already paid this subscription's first period: do not take money twice.
            guard subscription.status == .pending else { throw SubscriptionError.alreadySubscribed }
            try insertFirstPeriodPayment(subscription: subscription, order: order, paymentKey: paymentKey)
        }
        let result = Result { () throws(TossError) in
            try services.toss.confirmPayment(paymentKey: paymentKey, orderId: orderID, amount: amount, idempotencyKey: "confirm-" + orderID)
        }
        switch result {
        case .success(let answer):
            return try settleConfirmed(answer, order: order)
        case .failure(let error):
            switch error.kind {
            case .alreadyProcessed, .ambiguous:
                if let answer = try? services.toss.payment(orderId: orderID), answer.status == "DONE", answer.paymentKey == paymentKey {
                    return try settleConfirmed(answer, order: order)
                }
                if error.kind == .ambiguous { throw SubscriptionError.pgUnavailable(code: error.code) }
                try failOrder(order, code: error.code, message: error.message)
                throw SubscriptionError.tossRefused(code: error.code, message: error.message)
            case .transient:
                throw SubscriptionError.pgUnavailable(code: error.code)
            case .configuration:
                logger.error("toss_configuration_error", ["code": .string(error.code), "order_id": .string(orderID)])
                throw SubscriptionError.pgUnavailable(code: error.code)
            case .declined, .invalidRequest, .notFound:
                try failOrder(order, code: error.code, message: error.message)
                throw SubscriptionError.tossRefused(code: error.code, message: error.message)
            }
        }
    }

    private func insertFirstPeriodPayment(subscription: Subscription, order: Order, paymentKey: String) throws {
        try database.withConnection { connection in
            let payments = PaymentRepository(connection: connection)
            for _ in 0..<5 {
                let attempt = (try payments.attempts(subscriptionID: subscription.id, periodIndex: 0).map(\.attempt).max() ?? 0) + 1
                do {
                    try payments.insertPending(subscription: subscription, orderID: order.orderID, orderName: order.orderName, amount: order.amount,
                                               periodIndex: 0, attempt: attempt, paymentKey: paymentKey, now: now)
                    return
                } catch let error as DatabaseError where error.isUniqueViolation {
                    if try payments.find(orderID: order.orderID) != nil { return }
                }
            }
            throw DatabaseError(kind: .busy, message: "could not number the payment attempt")
        }
    }

    private func settleConfirmed(_ answer: TossPayment, order: Order) throws -> Payment {
        guard answer.status == "DONE" else {
            try failOrder(order, code: answer.failure?.code ?? answer.status, message: answer.failure?.message ?? "결제가 승인되지 않았습니다.")
            throw SubscriptionError.tossRefused(code: answer.failure?.code ?? answer.status, message: answer.failure?.message ?? "결제가 승인되지 않았습니다.")
        }
        return try database.withConnection { connection in
            try connection.transaction {
                let payments = PaymentRepository(connection: connection)
                _ = try payments.complete(orderID: order.orderID, paymentKey: answer.paymentKey, method: answer.method,
                                          paidAt: answer.approvedAt.flatMap { RFC3339.parse($0) } ?? now, receiptURL: answer.receiptURL,
                                          transactionKey: answer.lastTransactionKey, now: now)
                try OrderRepository(connection: connection).setStatus(orderID: order.orderID, status: "PAID", now: now)
                try charger.advance(connection, subscriptionID: order.subscriptionID, periodIndex: 0, now: now)
                return try payments.find(orderID: order.orderID)!
            }
        }
    }

    /// Reconcile's answer for a checkout payment: DONE completes it, a refusal fails it, anything else waits.
    func settleLookedUp(_ answer: TossPayment, orderID: String) throws -> ChargeOutcome {
        guard let order = try database.withConnection({ try OrderRepository(connection: $0).find(orderID: orderID) }) else {
            return .pending(reason: "ORDER_NOT_FOUND")
        }
        switch answer.status {
        case "DONE", "PARTIAL_CANCELED", "CANCELED":
            _ = try? settleConfirmed(answer, order: order)
            return .charged
        case "ABORTED", "EXPIRED":
            let code = answer.failure?.code ?? answer.status
            let message = answer.failure?.message ?? "결제가 승인되지 않았습니다."
            try failOrder(order, code: code, message: message)
            return .declined(code: code, message: message)
        default:
            return .pending(reason: answer.status)
        }
    }

    func expireCheckout(orderID: String) throws {
        guard let order = try database.withConnection({ try OrderRepository(connection: $0).find(orderID: orderID) }) else { return }
        try failOrder(order, code: "EXPIRED", message: "결제 승인이 이루어지지 않아 만료되었습니다.")
    }

    private func failOrder(_ order: Order, code: String, message: String) throws {
        try database.withConnection { connection in
            try connection.transaction {
                _ = try PaymentRepository(connection: connection).fail(orderID: order.orderID, code: code, reason: message, now: now)
                try OrderRepository(connection: connection).setStatus(orderID: order.orderID, status: "FAILED", code: code, reason: message, now: now)
            }
        }
    }

    /// The fail redirect: the order is marked failed (nothing was charged).
    func markOrderFailed(user: User, orderID: String, code: String, message: String) throws {
        try database.withConnection { connection in
            let orders = OrderRepository(connection: connection)
            guard let order = try orders.find(orderID: orderID, userID: user.id), order.status == "CREATED" else { return }
            try orders.setStatus(orderID: orderID, status: "FAILED", code: code, reason: message, now: now)
        }
    }

    // MARK: billing key

    /// Issues and seals the billing key. A PENDING subscription is charged for its first period at once; a PAST_DUE one is retried at once.
    func issueBillingKey(user: User, customerKey: String, authKey: String) throws -> Subscription {
        guard !authKey.isEmpty, authKey.utf8.count <= 300 else { throw HTTPError.badRequest("auth_key가 올바르지 않습니다.", code: "INVALID_FIELD") }
        guard let subscription = try database.withConnection({ try SubscriptionRepository(connection: $0).find(customerKey: customerKey, userID: user.id) })
        else { throw SubscriptionError.subscriptionNotFound }
        guard [.pending, .active, .pastDue].contains(subscription.status) else { throw SubscriptionError.notActive }
        let billing: TossBilling
        do {
            billing = try services.toss.issueBillingKey(authKey: authKey, customerKey: customerKey,
                                                        idempotencyKey: "issue-" + Crypto.hex(Crypto.sha256(Array(authKey.utf8))))
        } catch {
            switch error.kind {
            case .transient, .ambiguous, .configuration: throw SubscriptionError.pgUnavailable(code: error.code)
            default: throw SubscriptionError.tossRefused(code: error.code, message: error.message)
            }
        }
        let sealed = services.vault.seal(billing.billingKey, subscriptionID: subscription.id)
        let previous = subscription.sealedBillingKey.flatMap { services.vault.open($0, subscriptionID: subscription.id) }
        try database.withConnection { connection in
            try connection.transaction {
                let subscriptions = SubscriptionRepository(connection: connection)
                try subscriptions.saveCard(id: subscription.id, sealedBillingKey: sealed, digest: services.vault.digest(billing.billingKey),
                                           company: billing.card?.company,
                                           number: billing.card?.number, now: now)
                if var fresh = try subscriptions.find(id: subscription.id), fresh.status == .pastDue,
                   case .success(let next) = fresh.state.applying(.cardReplaced, dunning: services.dunning) {
                    fresh.state = next
                    fresh.refreshDates(calendar: services.calendar, dunning: services.dunning)
                    try subscriptions.saveState(fresh, now: now, expectedStatus: .pastDue)
                }
            }
        }
        if let previous, previous != billing.billingKey { try? services.toss.deleteBillingKey(previous) }
        logger.info("billing_key_issued", ["subscription_id": .string(subscription.id)])
        switch subscription.status {
        case .pending: try chargeFirstPeriod(subscriptionID: subscription.id)
        case .pastDue: try retryDue(subscriptionID: subscription.id)
        default: break
        }
        return try database.withConnection { try SubscriptionRepository(connection: $0).find(id: subscription.id)! }
    }

    private func chargeFirstPeriod(subscriptionID: String) throws {
        let attempt = try database.withConnection { connection in
            let attempts = try PaymentRepository(connection: connection).attempts(subscriptionID: subscriptionID, periodIndex: 0)
            // An unanswered earlier attempt is re-sent with its own order id rather than starting a second charge.
            if let unsettled = attempts.first(where: { $0.status == .pending && $0.orderID.hasPrefix("sub-") }) { return unsettled.attempt }
            return (attempts.map(\.attempt).max() ?? 0) + 1
        }
        switch try charger.charge(subscriptionID: subscriptionID, periodIndex: 0, attempt: attempt, now: now) {
        case .charged: return
        case .declined(let code, let message): throw SubscriptionError.chargeDeclined(code: code, message: message)
        case .pending(let reason): throw SubscriptionError.pgUnavailable(code: reason)
        }
    }

    private func retryDue(subscriptionID: String) throws {
        guard let subscription = try database.withConnection({ try SubscriptionRepository(connection: $0).find(id: subscriptionID) }) else { return }
        let decision = renewalDecision(state: subscription.state, now: now, calendar: services.calendar, cycle: subscription.cycle,
                                       dunning: services.dunning)
        guard case .charge(let period, let attempt, _) = decision else { return }
        if case .pending(let reason) = try charger.charge(subscriptionID: subscriptionID, periodIndex: period, attempt: attempt, now: now) {
            throw SubscriptionError.pgUnavailable(code: reason)
        }
    }

    // MARK: cancel and resume

    func cancel(user: User, subscriptionID: String, atPeriodEnd: Bool) throws -> Subscription {
        try database.withConnection { connection in
            try connection.transaction {
                let subscriptions = SubscriptionRepository(connection: connection)
                guard var subscription = try subscriptions.find(id: subscriptionID, userID: user.id) else { throw SubscriptionError.subscriptionNotFound }
                let event: SubscriptionEvent = atPeriodEnd && subscription.status == .active ? .cancelAtPeriodEnd : .cancelNow(at: now)
                guard subscription.status == .active || subscription.status == .pastDue,
                      case .success(let next) = subscription.state.applying(event, dunning: services.dunning) else { throw SubscriptionError.notActive }
                let before = subscription.status
                subscription.state = next
                subscription.refreshDates(calendar: services.calendar, dunning: services.dunning)
                if subscription.status == .cancelled { subscription.endDate = now }
                guard try subscriptions.saveState(subscription, now: now, expectedStatus: before) else { throw SubscriptionError.notActive }
                return try subscriptions.find(id: subscription.id)!
            }
        }
    }

    func resume(user: User, subscriptionID: String) throws -> Subscription {
        try database.withConnection { connection in
            try connection.transaction {
                let subscriptions = SubscriptionRepository(connection: connection)
                guard var subscription = try subscriptions.find(id: subscriptionID, userID: user.id) else { throw SubscriptionError.subscriptionNotFound }
                guard subscription.status == .active, subscription.cancelAtPeriodEnd,
                      case .success(let next) = subscription.state.applying(.resume, dunning: services.dunning) else { throw SubscriptionError.notCancelling }
                subscription.state = next
                subscription.refreshDates(calendar: services.calendar, dunning: services.dunning)
                try subscriptions.saveState(subscription, now: now, expectedStatus: .active)
                return try subscriptions.find(id: subscription.id)!
            }
        }
    }
}

extension Exchange {
    var subscriptions: SubscriptionService {
        SubscriptionService(database: app.database, services: app.services, logger: app.logger, now: now)
    }
}
