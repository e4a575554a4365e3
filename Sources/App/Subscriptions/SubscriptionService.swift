import Billing
import Crypto
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

    /// A new PENDING subscription, or the user's existing PENDING one, moved to the chosen plan: its open invoice is voided
    /// (an order for it can no longer be confirmed), unless a payment of that invoice is waiting for Toss.
    func subscribe(user: User, planID: String, customerKey: String?, coupon: String? = nil) throws -> Subscription {
        if let customerKey, !SubscriptionService.isValidCustomerKey(customerKey) { throw SubscriptionError.invalidCustomerKey }
        return try database.withConnection { connection in
            try connection.transaction {
                // One subscribe at a time per user: two tabs never make two subscriptions.
                try UserRepository(connection: connection).lock(id: user.id)
                guard let plan = try PlanRepository(connection: connection).find(id: planID), plan.isActive else { throw SubscriptionError.planNotFound }
                let subscriptions = SubscriptionRepository(connection: connection)
                let mine = try subscriptions.forUser(user.id)
                if mine.contains(where: { $0.status.isOngoing }) { throw SubscriptionError.alreadySubscribed }
                if let pending = mine.first(where: { $0.status == .pending }) {
                    if pending.plan.id != plan.id { try movePendingPlan(pending, to: plan, connection) }
                    guard let moved = try subscriptions.find(id: pending.id) else { throw SubscriptionError.subscriptionNotFound }
                    return try redeeming(coupon, on: moved, connection)
                }
                let key = customerKey ?? SubscriptionService.makeCustomerKey()
                if customerKey != nil, try subscriptions.find(customerKey: key) != nil { throw SubscriptionError.customerKeyTaken }
                let id = Identifier.make()
                do {
                    try subscriptions.insert(id: id, userID: user.id, planID: plan.id, customerKey: key, now: now)
                } catch let error as DatabaseError where error.isUniqueViolation {
                    throw SubscriptionError.customerKeyTaken
                }
                guard let created = try subscriptions.find(id: id) else { throw SubscriptionError.subscriptionNotFound }
                return try redeeming(coupon, on: created, connection)
            }
        }
    }

    /// The coupon given at subscribe, redeemed in the subscribe's transaction (a refused code subscribes nothing). Giving
    /// the code the subscription already carries again (a reload) is not a second redemption.
    private func redeeming(_ code: String?, on subscription: Subscription, _ connection: DatabaseConnection) throws -> Subscription {
        guard let code, !code.trimmingCharacters(in: .whitespaces).isEmpty else { return subscription }
        if let applied = subscription.coupon {
            guard applied.code == CouponRepository.normalized(code) else { throw CouponError.alreadyApplied }
            return subscription
        }
        try Coupons.redeem(code: code, on: subscription, planID: subscription.plan.id, appliedBy: nil, connection: connection, now: now)
        guard let saved = try SubscriptionRepository(connection: connection).find(id: subscription.id) else { throw SubscriptionError.subscriptionNotFound }
        return saved
    }

    private func movePendingPlan(_ pending: Subscription, to plan: Plan, _ connection: DatabaseConnection) throws {
        let subscriptions = SubscriptionRepository(connection: connection)
        try subscriptions.lock(id: pending.id)
        guard let current = try subscriptions.find(id: pending.id), current.status == .pending else { throw SubscriptionError.alreadySubscribed }
        let invoices = InvoiceRepository(connection: connection)
        if let open = try invoices.period(subscriptionID: current.id, index: 0), open.status == .open {
            if try PaymentRepository(connection: connection).inFlight(invoiceID: open.id) != nil { throw SubscriptionError.paymentInProgress }
            _ = try invoices.void(id: open.id, now: now)
        }
        guard try subscriptions.switchPendingPlan(current, to: plan.id, now: now) else { throw SubscriptionError.alreadySubscribed }
    }

    // MARK: checkout

    struct Checkout {
        let orderID: String
        let invoiceID: String
        let amount: Int
        let orderName: String
        let customerKey: String
    }

    /// The server-side order for the first period: its id comes from here and its amount from the period's invoice,
    /// never from the browser.
    func checkout(user: User, subscriptionID: String) throws -> Checkout {
        guard let subscription = try database.withConnection({ try SubscriptionRepository(connection: $0).find(id: subscriptionID, userID: user.id) })
        else { throw SubscriptionError.subscriptionNotFound }
        guard subscription.status == .pending else { throw SubscriptionError.notPending }
        let invoice = try firstInvoice(of: subscription)
        let orderID = Order.makeID()
        try database.withConnection { try OrderRepository(connection: $0).insert(orderID: orderID, invoice: invoice, now: now) }
        return Checkout(orderID: orderID, invoiceID: invoice.id, amount: invoice.total, orderName: invoice.orderName,
                        customerKey: subscription.customerKey)
    }

    /// The open invoice of a pending subscription's first period, priced from the plan it is on now. An open invoice left
    /// from a plan it has since left (a plan change racing its making) is voided and made again.
    private func firstInvoice(of subscription: Subscription) throws -> Invoice {
        let invoicing = Invoicing(database: database, services: services)
        var subscription = subscription
        for _ in 0..<3 {
            let invoice = try invoicing.periodInvoice(for: subscription, index: 0, now: now)
            switch invoice.status {
            case .paid: throw SubscriptionError.alreadySubscribed
            case .void, .uncollectible: throw SubscriptionError.notPending
            case .open: break
            }
            // Made before the plan changed or a coupon was applied: void it and price the period again.
            let couponMissing = invoice.couponID == nil && subscription.coupon?.appliesToNextInvoice == true
            guard invoice.planID != subscription.plan.id || couponMissing else { return invoice }
            try database.withConnection { connection in
                try connection.transaction {
                    try SubscriptionRepository(connection: connection).lock(id: subscription.id)
                    if try PaymentRepository(connection: connection).inFlight(invoiceID: invoice.id) != nil { throw SubscriptionError.paymentInProgress }
                    _ = try InvoiceRepository(connection: connection).void(id: invoice.id, now: now)
                }
            }
            guard let fresh = try database.withConnection({ try SubscriptionRepository(connection: $0).find(id: subscription.id) }),
                  fresh.status == .pending else { throw SubscriptionError.notPending }
            subscription = fresh
        }
        throw SubscriptionError.paymentInProgress
    }

    // MARK: confirm

    /// Confirms a payment-window payment. Repeating a confirm that succeeded answers the same payment and charges nothing;
    /// an order whose invoice was voided or paid otherwise never reaches Toss.
    func confirm(user: User, paymentKey: String, orderID: String, amount: Int) throws -> Payment {
        guard !paymentKey.isEmpty, paymentKey.utf8.count <= 200 else { throw SubscriptionError.invalidField(name: "payment_key", message: "payment_key가 올바르지 않습니다.") }
        let (order, existing, invoice) = try database.withConnection { connection -> (Order, Payment?, Invoice?) in
            guard let order = try OrderRepository(connection: connection).find(orderID: orderID, userID: user.id) else {
                throw SubscriptionError.orderNotFound
            }
            return (order, try PaymentRepository(connection: connection).find(orderID: orderID),
                    try order.invoiceID.flatMap { try InvoiceRepository(connection: connection).find(id: $0) })
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
            // An order from before invoices that the backfill could not bind to an open invoice pays nothing any more.
            guard let invoice else { throw SubscriptionError.orderVoid }
            switch invoice.status {
            case .void, .uncollectible: throw SubscriptionError.orderVoid
            case .paid: throw SubscriptionError.alreadySubscribed
            case .open: break
            }
            try insertCheckoutPayment(order: order, invoice: invoice, paymentKey: paymentKey)
        }
        let settlement = PaymentSettlement(database: database, services: services, logger: logger, now: now)
        let result = Result { () throws(TossError) in
            try services.toss.confirmPayment(paymentKey: paymentKey, orderId: orderID, amount: amount, idempotencyKey: "confirm-" + orderID)
        }
        let outcome: ChargeOutcome
        switch result {
        case .success(let answer):
            outcome = try settlement.settle(orderID: orderID, with: answer)
        case .failure(let error):
            switch error.kind {
            case .alreadyProcessed, .ambiguous, .transient:
                // Toss may have approved it: only its own record of the order decides; without one the payment stays PENDING.
                switch Result(catching: { () throws(TossError) in try services.toss.payment(orderId: orderID) }) {
                case .success(let answer): outcome = try settlement.settle(orderID: orderID, with: answer)
                case .failure: throw SubscriptionError.pgUnavailable(code: error.code)
                }
            case .configuration:
                logger.error("toss_configuration_error", ["code": .string(error.code), "order_id": .string(orderID)])
                throw SubscriptionError.pgUnavailable(code: error.code)
            case .declined, .invalidRequest, .notFound:
                outcome = try settlement.declined(orderID: orderID, code: error.code, message: error.message)
            }
        }
        switch outcome {
        case .charged, .surplus:
            guard let payment = try database.withConnection({ try PaymentRepository(connection: $0).find(orderID: orderID) }) else {
                throw SubscriptionError.orderNotFound
            }
            if payment.surplus { throw SubscriptionError.duplicateRefunded }
            return payment
        case .declined(let code, let message): throw SubscriptionError.tossRefused(code: code, message: message)
        case .pending(let reason), .blocked(let reason): throw SubscriptionError.pgUnavailable(code: reason)
        }
    }

    private func insertCheckoutPayment(order: Order, invoice: Invoice, paymentKey: String) throws {
        guard let subscription = try database.withConnection({ try SubscriptionRepository(connection: $0).find(id: order.subscriptionID) }) else {
            throw SubscriptionError.orderNotFound
        }
        try database.withConnection { connection in
            let payments = PaymentRepository(connection: connection)
            for _ in 0..<5 {
                let attempt = (try payments.attempts(subscriptionID: subscription.id, periodIndex: 0).map(\.attempt).max() ?? 0) + 1
                do {
                    try payments.insertPending(subscription: subscription, invoiceID: invoice.id, orderID: order.orderID, orderName: order.orderName,
                                               amount: order.amount, periodIndex: 0, attempt: attempt, paymentKey: paymentKey, now: now)
                    return
                } catch let error as DatabaseError where error.isUniqueViolation {
                    if try payments.find(orderID: order.orderID) != nil { return }
                    if try payments.inFlight(invoiceID: invoice.id) != nil { throw SubscriptionError.paymentInProgress }
                }
            }
            throw DatabaseError(kind: .busy, message: "could not number the payment attempt")
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

    /// Whether the first period of the subscription behind `orderID` (or `customerKey`) is paid: the redirect pages say so
    /// rather than show an error when a reload or a second tab arrives after the payment.
    func firstPeriodPaid(user: User, orderID: String? = nil, customerKey: String? = nil) -> Bool {
        (try? database.withConnection { connection -> Bool in
            let subscriptionID: String?
            if let orderID {
                subscriptionID = try OrderRepository(connection: connection).find(orderID: orderID, userID: user.id)?.subscriptionID
            } else if let customerKey {
                subscriptionID = try SubscriptionRepository(connection: connection).find(customerKey: customerKey, userID: user.id)?.id
            } else {
                subscriptionID = nil
            }
            guard let subscriptionID else { return false }
            return try InvoiceRepository(connection: connection).period(subscriptionID: subscriptionID, index: 0)?.status == .paid
        }) ?? false
    }

    // MARK: billing key

    /// Issues and seals the billing key. A PENDING subscription is charged for its first period at once — unless a payment
    /// of that period is already waiting for Toss, which is settled instead; a PAST_DUE one is retried at once.
    func issueBillingKey(user: User, customerKey: String, authKey: String) throws -> Subscription {
        guard !authKey.isEmpty, authKey.utf8.count <= 300 else { throw SubscriptionError.invalidField(name: "auth_key", message: "auth_key가 올바르지 않습니다.") }
        guard let subscription = try database.withConnection({ try SubscriptionRepository(connection: $0).find(customerKey: customerKey, userID: user.id) })
        else { throw SubscriptionError.subscriptionNotFound }
        guard !subscription.status.isFinal else { throw SubscriptionError.notActive }
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
        let status = try database.withConnection { connection in
            try connection.transaction { () -> SubscriptionStatus in
                let subscriptions = SubscriptionRepository(connection: connection)
                try subscriptions.lock(id: subscription.id)
                try subscriptions.saveCard(id: subscription.id, sealedBillingKey: sealed, digest: services.vault.digest(billing.billingKey),
                                           company: billing.card?.company, number: billing.card?.number, now: now)
                guard let fresh = try subscriptions.find(id: subscription.id) else { throw SubscriptionError.subscriptionNotFound }
                if fresh.status == .pastDue {
                    _ = try SubscriptionLifecycle(connection: connection, services: services, now: now).apply(.cardReplaced, to: fresh)
                }
                return fresh.status
            }
        }
        if let previous, previous != billing.billingKey { try? services.toss.deleteBillingKey(previous) }
        logger.info("billing_key_issued", ["subscription_id": .string(subscription.id)])
        switch status {
        case .pending: try chargeFirstPeriod(subscriptionID: subscription.id)
        case .pastDue: try retryDue(subscriptionID: subscription.id)
        default: break
        }
        guard let updated = try database.withConnection({ try SubscriptionRepository(connection: $0).find(id: subscription.id) }) else {
            throw SubscriptionError.subscriptionNotFound
        }
        return updated
    }

    /// Charges a PENDING subscription's first period with its card, unless a payment of it is already at Toss (then that
    /// payment's answer decides). Throws the outcome's refusal for the customer to see.
    func chargeFirstPeriod(subscriptionID: String) throws {
        guard let subscription = try database.withConnection({ try SubscriptionRepository(connection: $0).find(id: subscriptionID) }),
              subscription.status == .pending else { return }
        let invoice: Invoice
        do {
            invoice = try firstInvoice(of: subscription)
        } catch SubscriptionError.alreadySubscribed {
            return  // paid meanwhile (a confirm in another tab)
        }
        let (inFlight, attempts) = try database.withConnection { connection in
            let payments = PaymentRepository(connection: connection)
            return (try payments.inFlight(invoiceID: invoice.id), try payments.attempts(subscriptionID: subscriptionID, periodIndex: 0))
        }
        let outcome: ChargeOutcome
        if let inFlight, inFlight.isBillingCharge {
            // An unanswered charge is re-sent with its own order id and key: Toss answers it once.
            outcome = try charger.charge(subscriptionID: subscriptionID, periodIndex: 0, attempt: inFlight.attempt, now: now)
        } else if let inFlight {
            // The checkout's confirm is waiting for Toss: its answer decides; the card is kept either way.
            outcome = try charger.lookUp(orderID: inFlight.orderID, reason: "CONFIRM_UNSETTLED", now: now)
            if case .declined = outcome { return try chargeFirstPeriod(subscriptionID: subscriptionID) }
        } else {
            outcome = try charger.charge(subscriptionID: subscriptionID, periodIndex: 0, attempt: (attempts.map(\.attempt).max() ?? 0) + 1, now: now)
        }
        switch outcome {
        case .charged, .surplus: return
        case .declined(let code, let message): throw SubscriptionError.chargeDeclined(code: code, message: message)
        case .pending(let reason), .blocked(let reason): throw SubscriptionError.pgUnavailable(code: reason)
        }
    }

    private func retryDue(subscriptionID: String) throws {
        guard let subscription = try database.withConnection({ try SubscriptionRepository(connection: $0).find(id: subscriptionID) }) else { return }
        let decision = renewalDecision(state: subscription.state, now: now, calendar: services.calendar, cycle: subscription.cycle,
                                       dunning: services.dunning)
        guard case .charge(let period, let attempt, _) = decision else { return }
        switch try charger.charge(subscriptionID: subscriptionID, periodIndex: period, attempt: attempt, now: now) {
        case .pending(let reason), .blocked(let reason): throw SubscriptionError.pgUnavailable(code: reason)
        case .charged, .declined, .surplus: return
        }
    }

    // MARK: cancel and resume

    /// Cancelling is as easy as subscribing: one call. An open invoice the subscription no longer owes becomes VOID; a
    /// renewal charge still at Toss that turns out approved is refunded (its invoice is void by then).
    func cancel(user: User, subscriptionID: String, atPeriodEnd: Bool) throws -> Subscription {
        try transition(user: user, subscriptionID: subscriptionID) { subscription in
            guard subscription.status.isOngoing else { throw SubscriptionError.notActive }
            return atPeriodEnd && subscription.status == .active ? .cancelAtPeriodEnd : .cancelNow(at: now)
        } refused: { SubscriptionError.notActive }
    }

    func resume(user: User, subscriptionID: String) throws -> Subscription {
        try transition(user: user, subscriptionID: subscriptionID) { subscription in
            guard subscription.status == .active, subscription.cancelAtPeriodEnd else { throw SubscriptionError.notCancelling }
            return .resume
        } refused: { SubscriptionError.notCancelling }
    }

    private func transition(user: User, subscriptionID: String, event: (Subscription) throws -> SubscriptionEvent,
                            refused: () -> SubscriptionError) throws -> Subscription {
        try database.withConnection { connection in
            try connection.transaction {
                let subscriptions = SubscriptionRepository(connection: connection)
                guard let owned = try subscriptions.find(id: subscriptionID, userID: user.id) else { throw SubscriptionError.subscriptionNotFound }
                try subscriptions.lock(id: owned.id)
                guard let subscription = try subscriptions.find(id: owned.id) else { throw SubscriptionError.subscriptionNotFound }
                let lifecycle = SubscriptionLifecycle(connection: connection, services: services, now: now)
                switch try lifecycle.apply(try event(subscription), to: subscription, adjust: { if $0.status == .cancelled { $0.endDate = now } }) {
                case .applied:
                    guard let saved = try subscriptions.find(id: owned.id) else { throw SubscriptionError.subscriptionNotFound }
                    return saved
                case .refused, .lostRace, .notFound:
                    throw refused()
                }
            }
        }
    }
}

extension Exchange {
    var subscriptions: SubscriptionService {
        SubscriptionService(database: app.database, services: app.services, logger: app.logger, now: now)
    }
}
