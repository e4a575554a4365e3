import Billing
import Foundation
import Storage
import Toss
import Web

/// Applies Toss webhook events (docs/billing.md#webhooks). The body is only a hint: payment status comes from a fresh
/// `GET /v1/payments/{paymentKey}`, and a payment only ever moves forward.
struct WebhookProcessor {
    enum Outcome: String {
        case applied = "APPLIED"
        case unchanged = "UNCHANGED"
        case duplicate = "DUPLICATE"
        case unknownPayment = "UNKNOWN_PAYMENT"
        case ignored = "IGNORED"
        case deferred = "DEFERRED"
    }

    let database: Database
    let services: Services
    let logger: Logger
    let toss: TossClient
    let now: Date

    /// Processes an event; a failure (database, unexpected answer) is logged and leaves the event DEFERRED for reconcile.
    func processOrDefer(eventType: String, data: JSONObject, eventID: String) -> (Outcome, String) {
        do {
            return try process(eventType: eventType, data: data)
        } catch {
            logger.error("webhook_processing_failed", ["event_id": .string(eventID), "event_type": .string(eventType),
                                                       "error": .string(String(describing: error))])
            return (.deferred, "processing failed; retried by reconcile")
        }
    }

    func process(eventType: String, data: JSONObject) throws -> (Outcome, String) {
        switch eventType {
        case "PAYMENT_STATUS_CHANGED":
            guard let paymentKey = data["paymentKey"]?.stringValue else { return (.ignored, "no paymentKey in data") }
            return try refresh(paymentKey: paymentKey, orderID: data["orderId"]?.stringValue)
        case "BILLING_DELETED":
            guard let billingKey = data["billingKey"]?.stringValue else { return (.ignored, "no billingKey in data") }
            return try forgetCard(billingKey: billingKey)
        default:
            return (.ignored, "event type not handled")
        }
    }

    /// Order of payment states; a webhook never moves a payment to a lower rank.
    static func rank(_ status: PaymentStatus) -> Int {
        switch status {
        case .pending: 0
        case .failed, .completed: 1
        case .partialCancelled: 2
        case .cancelled: 3
        }
    }

    func refresh(paymentKey: String, orderID: String?) throws -> (Outcome, String) {
        var local = try database.withConnection { try PaymentRepository(connection: $0).find(paymentKey: paymentKey) }
        if local == nil, let orderID { local = try database.withConnection { try PaymentRepository(connection: $0).find(orderID: orderID) } }
        guard let payment = local else { return (.unknownPayment, "no payment with this paymentKey") }
        let answer: TossPayment
        switch Result(catching: { () throws(TossError) in try toss.payment(paymentKey: paymentKey) }) {
        case .success(let fetched): answer = fetched
        case .failure(let error) where error.kind == .notFound: return (.unknownPayment, "Toss does not know this paymentKey")
        case .failure(let error): return (.deferred, "lookup failed: \(error.code)")
        }
        guard answer.orderId == payment.orderID else { return (.ignored, "Toss's order id differs from ours") }
        var settled: String?
        // A payment waiting for its answer, or one recorded as failed that Toss in fact approved, settles from the answer
        // just fetched (no second lookup).
        if payment.status == .pending || (payment.status == .failed && answer.wasApproved) {
            let before = payment.status.rawValue
            var settlement = PaymentSettlement(database: database, services: services, logger: logger, now: now)
            settlement.refundsSurplusAtOnce = false
            switch try settlement.settle(orderID: payment.orderID, with: answer) {
            case .pending, .blocked: return (.unchanged, "Toss status \(answer.status)")
            case .charged: settled = "\(before) → COMPLETED"
            case .surplus: settled = "\(before) → COMPLETED (surplus approval; reconcile refunds it)"
            case .declined: settled = "\(before) → FAILED"
            }
        }
        let (outcome, detail) = try applyRefunds(answer, to: payment.orderID)
        guard let settled else { return (outcome, detail) }
        return (.applied, outcome == .applied ? "\(settled); \(detail)" : settled)
    }

    /// CANCELED / PARTIAL_CANCELED at Toss: record the refunded amount, forward only.
    func applyRefunds(_ answer: TossPayment, to orderID: String) throws -> (Outcome, String) {
        guard let target = answer.paymentStatus else { return (.unchanged, "Toss status \(answer.status)") }
        let refunded = max(0, answer.totalAmount - answer.balanceAmount)
        return try database.withConnection { connection in
            try connection.transaction {
                guard let current = try PaymentRepository(connection: connection).find(orderID: orderID) else { return (.unknownPayment, "") }
                let forward = WebhookProcessor.rank(target) > WebhookProcessor.rank(current.status)
                    || (target == current.status && refunded > current.refundedAmount)
                guard forward, current.status != .pending else { return (.unchanged, "already \(current.status.rawValue)") }
                guard try PaymentRepository(connection: connection).moveForward(current, to: target, refunded: max(refunded, current.refundedAmount),
                                                                                tossStatus: answer.status, now: now)
                else { return (.unchanged, "changed meanwhile") }
                return (.applied, "\(current.status.rawValue) → \(target.rawValue)")
            }
        }
    }

    func forgetCard(billingKey: String) throws -> (Outcome, String) {
        let digest = services.vault.digest(billingKey)
        return try database.withConnection { connection in
            let subscriptions = SubscriptionRepository(connection: connection)
            let holders = try subscriptions.find(billingKeyDigest: digest)
            guard !holders.isEmpty else { return (.ignored, "no subscription holds this billing key") }
            for holder in holders {
                try subscriptions.saveCard(id: holder.id, sealedBillingKey: nil, digest: nil, company: nil, number: nil, now: now)
            }
            return (.applied, "card removed from \(holders.count) subscription(s)")
        }
    }
}
