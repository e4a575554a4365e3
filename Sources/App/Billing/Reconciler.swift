import Billing
import Foundation
import Storage
import Toss
import Web

/// Settles payments left PENDING by an ambiguous answer, by asking Toss for the order.
public struct Reconciler: Sendable {
    /// A payment younger than this may still have its own request in flight.
    static let minimumAge: TimeInterval = 60
    /// A checkout confirm Toss never saw is dead after the payment window's 30 minutes.
    static let checkoutExpiry: TimeInterval = 30 * 60

    let database: Database
    let services: Services
    let logger: Logger

    public init(database: Database, services: Services, logger: Logger) {
        self.database = database
        self.services = services
        self.logger = logger
    }

    public struct Summary: Sendable, CustomStringConvertible {
        public var completed = 0
        public var failed = 0
        public var stillPending = 0
        /// Approvals for invoices already settled, refunded in this run.
        public var refunded = 0
        public var description: String { "completed=\(completed) failed=\(failed) pending=\(stillPending) refunded=\(refunded)" }
    }

    public func run(now: Date) throws -> Summary {
        var summary = Summary()
        let payments = try database.withConnection {
            try PaymentRepository(connection: $0).pending(olderThan: now.addingTimeInterval(-Reconciler.minimumAge), limit: 10_000)
        }
        for payment in payments {
            switch try settle(payment, now: now) {
            case .charged: summary.completed += 1
            case .declined: summary.failed += 1
            case .surplus: summary.refunded += 1
            case .pending, .blocked: summary.stillPending += 1
            }
        }
        summary.refunded += try refundSurplus(now: now)
        try retryDeferredWebhooks(now: now)
        logger.info("reconcile", ["summary": .string(summary.description)])
        return summary
    }

    /// Webhook events whose Toss lookup could not finish within the webhook's second are processed here.
    private func retryDeferredWebhooks(now: Date) throws {
        let events = try database.withConnection { try WebhookEventRepository(connection: $0).deferred(limit: 1000) }
        let processor = WebhookProcessor(database: database, services: services, logger: logger, toss: services.toss, now: now)
        for event in events {
            let (outcome, detail) = processor.processOrDefer(eventType: event.eventType, data: event.data, eventID: event.id)
            try database.withConnection { try WebhookEventRepository(connection: $0).setOutcome(id: event.id, outcome: outcome.rawValue, detail: detail) }
        }
    }

    /// Asks Toss for the order. Not found: a renewal is re-sent by the next pass with the same order id; a checkout payment
    /// the buyer never got confirmed is dead once the payment window's 30 minutes are over — and a pending subscription that
    /// has a card meanwhile is then charged for its first period with it.
    private func settle(_ payment: Payment, now: Date) throws -> ChargeOutcome {
        let settlement = PaymentSettlement(database: database, services: services, logger: logger, now: now)
        switch Result(catching: { () throws(TossError) in try services.toss.payment(orderId: payment.orderID) }) {
        case .success(let answer):
            return try settlement.settle(orderID: payment.orderID, with: answer)
        case .failure(let error) where error.kind == .notFound && !payment.isBillingCharge
            && now.timeIntervalSince(payment.createdAt) > Reconciler.checkoutExpiry:
            let outcome = try settlement.declined(orderID: payment.orderID, code: "EXPIRED", message: "결제 승인이 이루어지지 않아 만료되었습니다.")
            try chargeFirstPeriodWithCard(subscriptionID: payment.subscriptionID, now: now)
            return outcome
        case .failure(let error) where error.kind == .notFound && payment.isChange && now.timeIntervalSince(payment.createdAt) > Biller.unsentAfter:
            // The customer's plan-change request died before Toss heard of it; nothing sends it again.
            return try settlement.notSent(orderID: payment.orderID)
        case .failure(let error) where error.kind == .notFound && payment.isBillingCharge
            && now.timeIntervalSince(payment.createdAt) > Biller.unsentAfter:
            // A renewal Toss never received whose invoice is void (the customer left) or settled otherwise: nothing will
            // send it again, so it was not charged. One whose invoice is open is re-sent by the next pass.
            guard try invoiceIsSettled(payment) else { return .pending(reason: "NOT_FOUND_AT_TOSS") }
            return try settlement.notSent(orderID: payment.orderID)
        case .failure(let error):
            return .pending(reason: error.kind == .notFound ? "NOT_FOUND_AT_TOSS" : "LOOKUP_FAILED")
        }
    }

    private func invoiceIsSettled(_ payment: Payment) throws -> Bool {
        guard let invoiceID = payment.invoiceID else { return false }
        return try database.withConnection { try InvoiceRepository(connection: $0).find(id: invoiceID) }.map { $0.status != .open } ?? false
    }

    private func chargeFirstPeriodWithCard(subscriptionID: String, now: Date) throws {
        guard let subscription = try database.withConnection({ try SubscriptionRepository(connection: $0).find(id: subscriptionID) }),
              subscription.status == .pending, subscription.hasCard else { return }
        var outcome = "charged"
        do {
            try SubscriptionService(database: database, services: services, logger: logger, now: now).chargeFirstPeriod(subscriptionID: subscriptionID)
        } catch let refusal as SubscriptionError {
            outcome = refusal.httpError.code
        }
        logger.info("first_period_charged_after_expired_checkout", ["subscription_id": .string(subscriptionID), "outcome": .string(outcome)])
    }

    /// Surplus approvals whose refund call failed earlier are refunded now.
    private func refundSurplus(now: Date) throws -> Int {
        let settlement = PaymentSettlement(database: database, services: services, logger: logger, now: now)
        let waiting = try database.withConnection { try PaymentRepository(connection: $0).surplusToRefund(limit: 1000) }
        return waiting.filter { settlement.refundSurplus($0) }.count
    }
}
