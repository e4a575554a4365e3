import Billing
import Foundation
import Storage
import Toss
import Web

/// Charges one (subscription, period, attempt) with the billing key: the PENDING payment row is committed before Toss is
/// called, the order id doubles as the Idempotency-Key, no transaction is open during the call, and settling is guarded so
/// a second settler changes nothing.
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
        let orderID = OrderID.renewal(subscriptionID: subscription.id, periodIndex: periodIndex, attempt: attempt)
        let orderName = "\(subscription.plan.name) \(CycleNames.label(subscription.plan.billingCycle)) 구독"
        let existing = try database.withConnection { connection -> Payment? in
            let payments = PaymentRepository(connection: connection)
            do {
                try payments.insertPending(subscription: subscription, orderID: orderID, orderName: orderName, amount: subscription.plan.price,
                                           periodIndex: periodIndex, attempt: attempt, paymentKey: nil, now: now)
                return nil
            } catch let error as DatabaseError where error.isUniqueViolation {
                return try payments.find(orderID: orderID)
            }
        }
        if let existing {
            switch existing.status {
            case .completed, .cancelled, .partialCancelled:
                try settleSuccess(subscriptionID: subscription.id, periodIndex: periodIndex, now: now)
                return .charged
            case .failed:
                try settleDecline(subscriptionID: subscription.id, periodIndex: periodIndex, attempt: attempt, now: now)
                return .declined(code: existing.failureCode ?? "FAILED", message: existing.failureReason ?? "")
            case .pending:
                break  // re-send the same order id and key below
            }
        }
        let amount = existing?.amount ?? subscription.plan.price
        guard let sealed = subscription.sealedBillingKey,
              let billingKey = services.vault.open(sealed, subscriptionID: subscription.id) else {
            if existing != nil {
                // An earlier unanswered attempt may have been charged before the card went away: ask Toss first.
                let outcome = try lookUp(subscriptionID: subscription.id, orderID: orderID, periodIndex: periodIndex, attempt: attempt,
                                         reason: "NO_BILLING_KEY", now: now)
                guard outcome == .pending(reason: "NOT_FOUND_AT_TOSS") else { return outcome }
            }
            return try recordDecline(subscriptionID: subscription.id, orderID: orderID, periodIndex: periodIndex, attempt: attempt, code: "NO_BILLING_KEY",
                                     message: "등록된 카드가 없어 자동결제를 할 수 없습니다. 카드를 다시 등록해 주세요.", now: now)
        }
        var tries = 0
        while true {
            let answer = Result { () throws(TossError) in
                try services.toss.chargeBillingKey(billingKey, customerKey: subscription.customerKey, amount: amount, orderId: orderID,
                                                   orderName: existing?.orderName ?? orderName, customerEmail: nil, customerName: nil,
                                                   idempotencyKey: orderID)
            }
            switch answer {
            case .success(let payment):
                return try recordTossAnswer(payment, subscriptionID: subscription.id, orderID: orderID, periodIndex: periodIndex, attempt: attempt, now: now)
            case .failure(let error):
                switch error.kind {
                case .declined, .invalidRequest, .notFound:
                    return try recordDecline(subscriptionID: subscription.id, orderID: orderID, periodIndex: periodIndex, attempt: attempt, code: error.code,
                                             message: error.message, now: now)
                case .transient where tries < transientRetries:
                    tries += 1
                    Thread.sleep(forTimeInterval: retryDelay * Double(tries))
                    continue
                case .alreadyProcessed, .ambiguous, .transient:
                    return try lookUp(subscriptionID: subscription.id, orderID: orderID, periodIndex: periodIndex, attempt: attempt, reason: error.code, now: now)
                case .configuration:
                    logger.error("toss_configuration_error", ["code": .string(error.code), "order_id": .string(orderID)])
                    return .pending(reason: error.code)
                }
            }
        }
    }

    /// Asks Toss what became of an order, and settles it when the answer is final.
    func lookUp(subscriptionID: String, orderID: String, periodIndex: Int, attempt: Int, reason: String, now: Date) throws -> ChargeOutcome {
        switch Result(catching: { () throws(TossError) in try services.toss.payment(orderId: orderID) }) {
        case .success(let payment):
            return try recordTossAnswer(payment, subscriptionID: subscriptionID, orderID: orderID, periodIndex: periodIndex, attempt: attempt, now: now)
        case .failure(let error):
            return .pending(reason: error.kind == .notFound ? "NOT_FOUND_AT_TOSS" : reason)
        }
    }

    func recordTossAnswer(_ payment: TossPayment, subscriptionID: String, orderID: String, periodIndex: Int, attempt: Int, now: Date) throws -> ChargeOutcome {
        switch payment.status {
        case "DONE", "PARTIAL_CANCELED", "CANCELED":
            try database.withConnection { connection in
                try connection.transaction {
                    _ = try PaymentRepository(connection: connection).complete(
                        orderID: orderID, paymentKey: payment.paymentKey, method: payment.method,
                        paidAt: payment.approvedAt.flatMap { RFC3339.parse($0) } ?? now, receiptURL: payment.receiptURL,
                        transactionKey: payment.lastTransactionKey, now: now)
                    try advance(connection, subscriptionID: subscriptionID, periodIndex: periodIndex, now: now)
                }
            }
            logger.info("charge", ["order_id": .string(orderID), "outcome": "charged", "amount": .int(payment.totalAmount)])
            return .charged
        case "ABORTED", "EXPIRED":
            return try recordDecline(subscriptionID: subscriptionID, orderID: orderID, periodIndex: periodIndex, attempt: attempt,
                                     code: payment.failure?.code ?? payment.status, message: payment.failure?.message ?? "결제가 승인되지 않았습니다.",
                                     paymentKey: payment.paymentKey, now: now)
        default:
            return .pending(reason: "TOSS_STATUS_\(payment.status)")
        }
    }

    private func recordDecline(subscriptionID: String, orderID: String, periodIndex: Int, attempt: Int, code: String, message: String,
                               paymentKey: String? = nil, now: Date) throws -> ChargeOutcome {
        try database.withConnection { connection in
            try connection.transaction {
                _ = try PaymentRepository(connection: connection).fail(orderID: orderID, code: code, reason: message, paymentKey: paymentKey, now: now)
                try decline(connection, subscriptionID: subscriptionID, periodIndex: periodIndex, attempt: attempt, now: now)
            }
        }
        logger.info("charge", ["order_id": .string(orderID), "outcome": "declined", "code": .string(code)])
        return .declined(code: code, message: message)
    }

    private func settleSuccess(subscriptionID: String, periodIndex: Int, now: Date) throws {
        try database.withConnection { connection in
            try connection.transaction { try advance(connection, subscriptionID: subscriptionID, periodIndex: periodIndex, now: now) }
        }
    }

    private func settleDecline(subscriptionID: String, periodIndex: Int, attempt: Int, now: Date) throws {
        try database.withConnection { connection in
            try connection.transaction { try decline(connection, subscriptionID: subscriptionID, periodIndex: periodIndex, attempt: attempt, now: now) }
        }
    }

    /// A paid period: PENDING → ACTIVE (period 0, anchored now) or the renewal advances the period. A repeated report changes nothing.
    func advance(_ connection: DatabaseConnection, subscriptionID: String, periodIndex: Int, now: Date) throws {
        let subscriptions = SubscriptionRepository(connection: connection)
        guard var subscription = try subscriptions.find(id: subscriptionID) else { return }
        let event: SubscriptionEvent = subscription.status == .pending && periodIndex == 0
            ? .firstPaymentSucceeded(at: now) : .renewalSucceeded(periodIndex: periodIndex)
        guard case .success(let next) = subscription.state.applying(event, dunning: services.dunning) else { return }
        let before = subscription.status
        let period = subscription.currentPeriod
        subscription.state = next
        subscription.refreshDates(calendar: services.calendar, dunning: services.dunning)
        try subscriptions.saveState(subscription, now: now, expectedStatus: before, expectedPeriod: period)
    }

    /// A definitive decline: renewals go through dunning (PAST_DUE, then INACTIVE); a first charge leaves the subscription PENDING.
    func decline(_ connection: DatabaseConnection, subscriptionID: String, periodIndex: Int, attempt: Int, now: Date) throws {
        let subscriptions = SubscriptionRepository(connection: connection)
        // Only the attempt the subscription is waiting on may count as a failure, once.
        guard var subscription = try subscriptions.find(id: subscriptionID), subscription.status != .pending,
              subscription.failedAttempts == attempt - 1 else { return }
        guard case .success(let next) = subscription.state.applying(.renewalDeclined(periodIndex: periodIndex), dunning: services.dunning) else { return }
        let before = subscription.status
        let period = subscription.currentPeriod
        subscription.state = next
        subscription.refreshDates(calendar: services.calendar, dunning: services.dunning)
        try subscriptions.saveState(subscription, now: now, expectedStatus: before, expectedPeriod: period)
    }
}
