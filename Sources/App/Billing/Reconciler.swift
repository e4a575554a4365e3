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
        public var description: String { "completed=\(completed) failed=\(failed) pending=\(stillPending)" }
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
            case .pending: summary.stillPending += 1
            }
        }
        try retryDeferredWebhooks(now: now)
        logger.info("reconcile", ["summary": .string(summary.description)])
        return summary
    }

    /// Webhook events whose Toss lookup could not finish within the webhook's second are processed here.
    private func retryDeferredWebhooks(now: Date) throws {
        let events = try database.withConnection {
            try $0.query("SELECT id, event_type, payload FROM webhook_events WHERE outcome = 'DEFERRED' ORDER BY received_at LIMIT 1000", [])
        }
        let processor = WebhookProcessor(database: database, services: services, logger: logger, toss: services.toss, now: now)
        for event in events {
            let data = (try? JSON.parse(event.string("payload")))?["data"]?.objectValue ?? [:]
            let (outcome, detail) = (try? processor.process(eventType: event.string("event_type"), data: data)) ?? (.deferred, "processing failed")
            try database.withConnection {
                try $0.execute("UPDATE webhook_events SET outcome = ?, detail = ? WHERE id = ?",
                               [.text(outcome.rawValue), .text(detail), .text(event.string("id"))])
            }
        }
    }

    /// Asks Toss for the order. Not found: a renewal is re-sent by the next pass with the same order id; a checkout payment
    /// the buyer never got confirmed is dead once the payment window's 30 minutes are over.
    private func settle(_ payment: Payment, now: Date) throws -> ChargeOutcome {
        switch Result(catching: { () throws(TossError) in try services.toss.payment(orderId: payment.orderID) }) {
        case .success(let answer):
            return try PaymentSettlement(database: database, services: services, logger: logger, now: now).settle(payment, with: answer)
        case .failure(let error) where error.kind == .notFound && !PaymentSettlement.isRenewal(payment)
            && now.timeIntervalSince(payment.createdAt) > Reconciler.checkoutExpiry:
            try SubscriptionService(database: database, services: services, logger: logger, now: now).expireCheckout(orderID: payment.orderID)
            return .declined(code: "EXPIRED", message: "결제 승인이 이루어지지 않아 만료되었습니다.")
        case .failure(let error):
            return .pending(reason: error.kind == .notFound ? "NOT_FOUND_AT_TOSS" : "LOOKUP_FAILED")
        }
    }
}
