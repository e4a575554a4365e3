import Billing
import Foundation
import Storage
import Toss
import Web

/// Charges one (subscription, period, attempt) with the billing key: the period's invoice is made (or found) first, the
/// PENDING payment row for it is committed before Toss is called, the order id doubles as the Idempotency-Key, no
/// transaction is open during the call, and Toss's answer is settled by `PaymentSettlement`.
struct Charger {
    let database: Database
    let services: Services
    let logger: Logger
    /// Same-key retries of a transient Toss error within one attempt.
    var transientRetries = 2
    var retryDelay: TimeInterval = 0.3

    func charge(subscriptionID: String, periodIndex: Int, attempt: Int, now: Date) throws -> ChargeOutcome {
        guard let subscription = try database.withConnection({ try SubscriptionRepository(connection: $0).find(id: subscriptionID) }) else {
            return .pending(reason: "subscription vanished")
        }
        return try charge(subscription, periodIndex: periodIndex, attempt: attempt, now: now)
    }

    func charge(_ subscription: Subscription, periodIndex: Int, attempt: Int, now: Date) throws -> ChargeOutcome {
        let settlement = PaymentSettlement(database: database, services: services, logger: logger, now: now)
        let orderID = OrderID.renewal(subscriptionID: subscription.id, periodIndex: periodIndex, attempt: attempt)
        let known = try database.withConnection {
            try InvoiceRepository(connection: $0).period(subscriptionID: subscription.id, index: periodIndex)
        }
        // A billing key that cannot be opened is the operator's problem (rotated secret, damaged data), not a decline.
        let billingKey = subscription.sealedBillingKey.flatMap { services.vault.open($0, subscriptionID: subscription.id) }
        if subscription.sealedBillingKey != nil, billingKey == nil {
            let attempted = try database.withConnection { try PaymentRepository(connection: $0).find(orderID: orderID) }
            if let attempted, attempted.status != .pending { return replay(attempted) }
            return try block(subscription, orderID: attempted == nil ? nil : orderID, now: now)
        }
        if subscription.chargeBlocked != nil {
            try database.withConnection { try SubscriptionRepository(connection: $0).setChargeBlocked(id: subscription.id, reason: nil, now: now) }
        }
        if let known, known.status != .open {
            // Nothing is owed any more: find out what became of an attempt already made, never send one.
            guard let attempted = try database.withConnection({ try PaymentRepository(connection: $0).find(orderID: orderID) }) else {
                return .pending(reason: "INVOICE_\(known.status.rawValue)")
            }
            if attempted.status != .pending { return replay(attempted) }
            return try lookUp(orderID: orderID, reason: "INVOICE_\(known.status.rawValue)", now: now)
        }
        // The attempt's row is written before Toss is called; one already there (a crash, a second pass) is re-sent as it was.
        var invoice = known
        var existing: Payment?
        switch try insertAttempt(subscription, invoice: known, orderID: orderID, periodIndex: periodIndex, attempt: attempt, now: now) {
        case .inserted(let made): invoice = made
        case .existing(let payment) where payment.status == .pending: existing = payment
        case .existing(let payment): return replay(payment)
        case .anotherInFlight: return .pending(reason: "PAYMENT_IN_FLIGHT")
        case .notOpen(let status): return .pending(reason: "INVOICE_\(status.rawValue)")
        }
        guard let billingKey else {
            if existing != nil {
                // An earlier unanswered attempt may have been charged before the card went away: ask Toss first.
                let outcome = try lookUp(orderID: orderID, reason: "NO_BILLING_KEY", now: now)
                guard outcome == .pending(reason: "NOT_FOUND_AT_TOSS") else { return outcome }
            }
            return try settlement.declined(orderID: orderID, code: "NO_BILLING_KEY",
                                           message: "등록된 카드가 없어 자동결제를 할 수 없습니다. 카드를 다시 등록해 주세요.")
        }
        guard let amount = existing?.amount ?? invoice?.total, let orderName = existing?.orderName ?? invoice?.orderName else {
            return .pending(reason: "NO_INVOICE")
        }
        return try send(billingKey: billingKey, customerKey: subscription.customerKey, amount: amount, orderID: orderID, orderName: orderName,
                        now: now)
    }

    /// Sends one billing-key charge whose PENDING row is committed, re-sending a transient failure with the same key, and
    /// settles Toss's answer; an ambiguous one is looked up.
    func send(billingKey: String, customerKey: String, amount: Int, orderID: String, orderName: String, now: Date) throws -> ChargeOutcome {
        let settlement = PaymentSettlement(database: database, services: services, logger: logger, now: now)
        var tries = 0
        while true {
            let answer = Result { () throws(TossError) in
                try services.toss.chargeBillingKey(billingKey, customerKey: customerKey, amount: amount, orderId: orderID,
                                                   orderName: orderName, customerEmail: nil, customerName: nil, idempotencyKey: orderID)
            }
            switch answer {
            case .success(let payment):
                return try settlement.settle(orderID: orderID, with: payment)
            case .failure(let error):
                switch error.kind {
                case .declined, .invalidRequest, .notFound:
                    return try settlement.declined(orderID: orderID, code: error.code, message: error.message)
                case .transient where tries < transientRetries:
                    tries += 1
                    Thread.sleep(forTimeInterval: retryDelay * Double(tries))
                    continue
                case .alreadyProcessed, .ambiguous, .transient:
                    return try lookUp(orderID: orderID, reason: error.code, now: now)
                case .configuration:
                    logger.error("toss_configuration_error", ["code": .string(error.code), "order_id": .string(orderID)])
                    return .pending(reason: error.code)
                }
            }
        }
    }

    private enum Insertion {
        /// The attempt's PENDING row is committed, with the invoice it pays (made in the same transaction if the period had none).
        case inserted(Invoice)
        case existing(Payment)
        /// Another payment of the same invoice is waiting for Toss (e.g. the checkout's confirm): never a second charge.
        case anotherInFlight
        case notOpen(InvoiceStatus)
    }

    private func insertAttempt(_ subscription: Subscription, invoice known: Invoice?, orderID: String, periodIndex: Int, attempt: Int,
                               now: Date) throws -> Insertion {
        let invoicing = Invoicing(database: database, services: services)
        return try database.withConnection { connection in
            let payments = PaymentRepository(connection: connection)
            let invoices = InvoiceRepository(connection: connection)
            var invoice = known
            for _ in 0..<3 {
                do {
                    let paid = try connection.transaction { () -> Invoice in
                        let target = try invoice ?? invoicing.insert(invoicing.periodDraft(for: subscription, index: periodIndex),
                                                                     connection: connection, now: now)
                        try payments.insertPending(subscription: subscription, invoiceID: target.id, orderID: orderID, orderName: target.orderName,
                                                   amount: target.total, periodIndex: periodIndex, attempt: attempt, paymentKey: nil, now: now)
                        return target
                    }
                    return .inserted(paid)
                } catch let error as DatabaseError where error.isUniqueViolation {
                    if let existing = try payments.find(orderID: orderID) { return .existing(existing) }
                    guard invoice == nil, let made = try invoices.period(subscriptionID: subscription.id, index: periodIndex) else {
                        return .anotherInFlight
                    }
                    // Another writer made the period's invoice first: pay that one.
                    guard made.status == .open else { return .notOpen(made.status) }
                    invoice = made
                }
            }
            return .anotherInFlight
        }
    }

    /// An attempt already settled: report it again (the biller may be catching up after a crash).
    private func replay(_ payment: Payment) -> ChargeOutcome {
        switch payment.status {
        case .completed, .cancelled, .partialCancelled: return payment.surplus ? .surplus : .charged
        case .failed: return .declined(code: payment.failureCode ?? "FAILED", message: payment.failureReason ?? "")
        case .pending: return .pending(reason: "PENDING")
        }
    }

    private func block(_ subscription: Subscription, orderID: String?, now: Date) throws -> ChargeOutcome {
        if let orderID {
            // An attempt sent before the key became unreadable may have gone through.
            let outcome = try lookUp(orderID: orderID, reason: "BILLING_KEY_UNREADABLE", now: now)
            if case .pending = outcome {} else { return outcome }
        }
        logger.error("billing_key_unreadable", ["subscription_id": .string(subscription.id),
                                                "advice": "GUDOK_SECRET_KEY differs from the one that sealed this billing key; charging is stopped, the customer is not dunned"])
        try database.withConnection {
            try SubscriptionRepository(connection: $0).setChargeBlocked(id: subscription.id, reason: "BILLING_KEY_UNREADABLE", now: now)
        }
        return .blocked(reason: "BILLING_KEY_UNREADABLE")
    }

    /// Asks Toss what became of an order, and settles it when the answer is final.
    func lookUp(orderID: String, reason: String, now: Date) throws -> ChargeOutcome {
        switch Result(catching: { () throws(TossError) in try services.toss.payment(orderId: orderID) }) {
        case .success(let payment):
            return try PaymentSettlement(database: database, services: services, logger: logger, now: now).settle(orderID: orderID, with: payment)
        case .failure(let error):
            return .pending(reason: error.kind == .notFound ? "NOT_FOUND_AT_TOSS" : reason)
        }
    }
}
