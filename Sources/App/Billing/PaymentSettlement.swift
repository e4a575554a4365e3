import Billing
import Foundation
import Storage
import Toss
import Web

/// The one place where Toss's word about a payment becomes gudok's state: confirm answers, billing charges, reconcile
/// lookups and webhooks all come here.
///
/// An approval pays the payment's invoice if the invoice is still OPEN and the subscription can take that period; the
/// payment, the invoice and the subscription change in one transaction, with the subscription row locked. Any other
/// approval (the invoice was paid by another payment, voided, or given up on) is a surplus: gudok refunds it through
/// Toss's cancel API and records that in the audit log, so Toss never keeps two approvals for one invoice.
struct PaymentSettlement {
    let database: Database
    let services: Services
    let logger: Logger
    let now: Date
    /// False where an answer is due within a second (webhooks): the refund of a surplus approval is then left to reconcile.
    var refundsSurplusAtOnce = true

    /// Settles from a Toss Payment object: approved (DONE, or cancelled since — it was approved once), refused
    /// (ABORTED, EXPIRED), or still open (anything else).
    func settle(orderID: String, with answer: TossPayment) throws -> ChargeOutcome {
        if answer.wasApproved { return try approved(orderID: orderID, answer: answer) }
        guard answer.wasRefused else { return .pending(reason: "TOSS_STATUS_\(answer.status)") }
        return try declined(orderID: orderID, code: answer.failure?.code ?? answer.status, message: answer.failure?.message ?? "결제가 승인되지 않았습니다.",
                            paymentKey: answer.paymentKey)
    }

    // MARK: approvals

    func approved(orderID: String, answer: TossPayment) throws -> ChargeOutcome {
        let paidAt = answer.approvedAt.flatMap { RFC3339.parse($0) } ?? now
        var result = ApprovalResult.unknownOrder
        for round in 1...4 {
            do {
                result = try database.withConnection { connection in
                    switch connection.dialect {
                    case .postgres:
                        // Read under the subscription's row lock, so settlements and customer actions on it take turns.
                        return try connection.transaction { try write(plan(read(orderID, locking: true, connection)), answer, paidAt, connection) }
                    case .sqlite:
                        // Read before taking the one write lock and only write under it: every write is conditional, so a
                        // change in between makes one miss and the whole settles again from a fresh read.
                        let plan = try plan(read(orderID, locking: false, connection))
                        return try connection.transaction { try write(plan, answer, paidAt, connection) }
                    }
                }
                break
            } catch SettlementError.changedMeanwhile where round < 4 {
                continue
            }
        }
        switch result {
        case .unknownOrder:
            return .pending(reason: "ORDER_NOT_FOUND")
        case .alreadySettled:
            return .charged
        case .paid(let payment):
            checkVAT(payment, tossVAT: answer.vat, tossAmount: answer.totalAmount)
            logger.info("charge", ["order_id": .string(orderID), "outcome": "charged", "amount": .int(answer.totalAmount)])
            return .charged
        case .surplus(let payment):
            logger.error("surplus_approval", ["order_id": .string(orderID), "payment_id": .string(payment.id), "invoice_id": .optional(payment.invoiceID),
                                              "amount": .int(payment.amount)])
            if refundsSurplusAtOnce { refundSurplus(payment) }
            return .surplus
        }
    }

    private enum ApprovalResult {
        case unknownOrder
        case alreadySettled
        case paid(Payment)
        case surplus(Payment)
    }

    enum SettlementError: Error {
        /// A conditional write found the row changed since it was read: settle again from a fresh read.
        case changedMeanwhile
    }

    /// What an approval reads: the payment, its subscription, and (for a first period) the invoice whose plan is served.
    private struct ApprovalInputs {
        var payment: Payment
        var subscription: Subscription?
        var invoice: Invoice?
        /// The invoice's plan when the subscription points at another one since.
        var invoicePlan: Plan?
    }

    private func read(_ orderID: String, locking: Bool, _ connection: DatabaseConnection) throws -> ApprovalInputs? {
        let payments = PaymentRepository(connection: connection)
        guard let payment = try locking ? payments.findLockingSubscription(orderID: orderID) : payments.find(orderID: orderID) else { return nil }
        guard payment.status == .pending || payment.status == .failed else { return ApprovalInputs(payment: payment) }
        let subscription = try SubscriptionRepository(connection: connection).find(id: payment.subscriptionID)
        let firstPeriod = subscription?.status == .pending && payment.periodIndex == 0
        let needsInvoice = firstPeriod || payment.isChange
        let invoice = try needsInvoice ? payment.invoiceID.flatMap { try InvoiceRepository(connection: connection).find(id: $0) } : nil
        let invoicePlan = try invoice.flatMap { invoice in
            invoice.planID == subscription?.plan.id ? nil : try PlanRepository(connection: connection).find(id: invoice.planID)
        }
        return ApprovalInputs(payment: payment, subscription: subscription, invoice: invoice, invoicePlan: invoicePlan)
    }

    /// What an approval comes to.
    private enum ApprovalPlan {
        case unknownOrder
        /// Settled as approved before: a repeated answer.
        case settled(Payment)
        /// The approval pays its invoice; the subscription (serving `served`'s plan) takes `event`.
        case pay(Payment, invoiceID: String, served: Subscription, event: SubscriptionEvent, firstPeriod: BillingPeriod?)
        /// The approval pays a mid-period plan change: the subscription serves the invoice's plan at its price from now on.
        case payChange(Payment, invoice: Invoice, subscription: Subscription)
        /// The invoice was paid otherwise, voided or given up on, or the subscription cannot take the period.
        case surplus(Payment)
    }

    private func plan(_ inputs: ApprovalInputs?) throws -> ApprovalPlan {
        guard let inputs else { return .unknownOrder }
        let payment = inputs.payment
        guard payment.status == .pending || payment.status == .failed else { return .settled(payment) }
        guard let invoiceID = payment.invoiceID, let subscription = inputs.subscription else { return .surplus(payment) }
        if payment.isChange {
            guard let invoice = inputs.invoice, invoice.status == .open, subscription.status.isOngoing,
                  subscription.currentPeriodIndex == invoice.periodIndex else { return .surplus(payment) }
            return .payChange(payment, invoice: invoice, subscription: subscription)
        }
        let firstPeriod = subscription.status == .pending && payment.periodIndex == 0
        // The first period starts when gudok learns of the payment, by its own clock (the test clock, `bill --now`), not Toss's.
        let event: SubscriptionEvent = firstPeriod ? .firstPaymentSucceeded(at: now) : .renewalSucceeded(periodIndex: payment.periodIndex)
        guard case .success = subscription.state.applying(event, dunning: services.dunning) else { return .surplus(payment) }
        guard firstPeriod else { return .pay(payment, invoiceID: invoiceID, served: subscription, event: event, firstPeriod: nil) }
        // Activation serves the plan that was paid for, never the one the subscription points at now.
        guard let invoice = inputs.invoice, invoice.status == .open else { return .surplus(payment) }
        var served = subscription
        if served.plan.id != invoice.planID {
            guard let plan = inputs.invoicePlan else { return .surplus(payment) }
            served.plan = plan
        }
        // From here on the subscriber pays what this invoice priced the plan at, whatever the plan's price becomes.
        served.lockedPrice = invoice.planPrice
        return .pay(payment, invoiceID: invoiceID, served: served, event: event,
                    firstPeriod: services.calendar.period(anchor: now, cycle: served.cycle, index: 0))
    }

    /// The plan's writes, each conditional on what was read; a miss throws `changedMeanwhile` and nothing is kept.
    private func write(_ plan: ApprovalPlan, _ answer: TossPayment, _ paidAt: Date, _ connection: DatabaseConnection) throws -> ApprovalResult {
        let payments = PaymentRepository(connection: connection)
        var payment: Payment
        let paysInvoice: Bool
        switch plan {
        case .unknownOrder:
            return .unknownOrder
        case .settled(let settled):
            return settled.surplus ? .surplus(settled) : .alreadySettled
        case .surplus(let unpaid):
            payment = unpaid
            paysInvoice = false
        case .payChange(let unpaid, let invoice, let subscription):
            payment = unpaid
            paysInvoice = true
            guard try InvoiceRepository(connection: connection).markPaid(id: invoice.id, paymentID: payment.id, paidAt: paidAt, periodStart: nil,
                                                                       periodEnd: nil, now: now)
            else { throw SettlementError.changedMeanwhile }
            try SubscriptionRepository(connection: connection).setPlan(id: subscription.id, planID: invoice.planID, price: invoice.planPrice)
            try AuditLogRepository(connection: connection).record(
                actorID: subscription.userID, action: "subscription.plan_changed", objectType: "subscription", objectID: subscription.id,
                before: ["plan_id": .string(subscription.plan.id), "price": .int(subscription.price)],
                after: ["plan_id": .string(invoice.planID), "price": .int(invoice.planPrice), "invoice_id": .string(invoice.id),
                        "prorated_amount": .int(invoice.total), "when": "now"],
                now: now)
        case .pay(let unpaid, let invoiceID, var served, let event, let firstPeriod):
            payment = unpaid
            paysInvoice = true
            guard try InvoiceRepository(connection: connection).markPaid(id: invoiceID, paymentID: payment.id, paidAt: paidAt,
                                                                       periodStart: firstPeriod?.start, periodEnd: firstPeriod?.end, now: now)
            else { throw SettlementError.changedMeanwhile }
            if let lockedPrice = served.lockedPrice, firstPeriod != nil {
                try SubscriptionRepository(connection: connection).setPlan(id: served.id, planID: served.plan.id, price: lockedPrice)
                served.version += 1
            }
            guard case .applied = try SubscriptionLifecycle(connection: connection, services: services, now: now).apply(event, to: served) else {
                throw SettlementError.changedMeanwhile
            }
        }
        guard try payments.complete(orderID: payment.orderID, paymentKey: answer.paymentKey, method: answer.method, paidAt: paidAt,
                                    receiptURL: answer.receiptURL, transactionKey: answer.lastTransactionKey, vat: answer.vat,
                                    suppliedAmount: answer.suppliedAmount, surplus: !paysInvoice, now: now)
        else { throw SettlementError.changedMeanwhile }
        if !payment.isBillingCharge, !payment.isChange { try OrderRepository(connection: connection).setStatus(orderID: payment.orderID, status: "PAID", now: now) }
        payment.status = .completed
        payment.paymentKey = answer.paymentKey
        payment.surplus = !paysInvoice
        return paysInvoice ? .paid(payment) : .surplus(payment)
    }

    /// Toss's VAT split should be the invoice's (the invoice's total is the amount charged); a difference is logged for the
    /// operator and counted in /metrics.
    private func checkVAT(_ payment: Payment, tossVAT: Int?, tossAmount: Int) {
        let invoiceVAT = VAT.included(in: payment.amount)
        guard let tossVAT, tossVAT != invoiceVAT || tossAmount != payment.amount else { return }
        logger.warning("vat_mismatch", ["payment_id": .string(payment.id), "invoice_id": .optional(payment.invoiceID), "invoice_vat": .int(invoiceVAT),
                                        "toss_vat": .int(tossVAT), "invoice_total": .int(payment.amount), "toss_amount": .int(tossAmount)])
    }

    // MARK: refusals

    /// A definitive refusal: the payment fails; a renewal goes through dunning (PAST_DUE, then INACTIVE); a first-period
    /// payment leaves the subscription PENDING with its invoice open for another try.
    func declined(orderID: String, code: String, message: String, paymentKey: String? = nil) throws -> ChargeOutcome {
        try database.withConnection { connection in
            try connection.transaction {
                let payments = PaymentRepository(connection: connection)
                guard let payment = try payments.findLockingSubscription(orderID: orderID) else { return }
                guard try payments.fail(orderID: orderID, code: code, reason: message, paymentKey: paymentKey, now: now) else { return }
                try OrderRepository(connection: connection).setStatus(orderID: orderID, status: "FAILED", code: code, reason: message, now: now)
                try applyDecline(payment, connection)
            }
        }
        logger.info("charge", ["order_id": .string(orderID), "outcome": "declined", "code": .string(code)])
        return .declined(code: code, message: message)
    }

    /// A renewal attempt Toss never received and nothing will send again: it was not charged.
    func notSent(orderID: String) throws -> ChargeOutcome {
        try declined(orderID: orderID, code: "NOT_SENT", message: "결제 요청이 결제사에 전달되지 않아 청구되지 않았습니다.")
    }

    /// Dunning counts a decline once, and only for the attempt the subscription is waiting on.
    func applyDecline(_ payment: Payment, _ connection: DatabaseConnection) throws {
        if payment.isChange {
            // A refused plan change leaves the plan as it was; its invoice is void so that another try makes a new one.
            if let invoiceID = payment.invoiceID { _ = try InvoiceRepository(connection: connection).void(id: invoiceID, now: now) }
            return
        }
        guard let subscription = try SubscriptionRepository(connection: connection).find(id: payment.subscriptionID),
              subscription.status.isOngoing,
              subscription.failedAttempts == payment.attempt - 1 else { return }
        _ = try SubscriptionLifecycle(connection: connection, services: services, now: now)
            .apply(.renewalDeclined(periodIndex: payment.periodIndex), to: subscription)
    }

    // MARK: surplus refunds

    static let surplusRefundReason = "이미 결제된 청구서에 대한 중복 승인 자동 환불"

    /// Gives back an approval that pays nothing. A failed refund call leaves it for the next reconcile.
    @discardableResult
    func refundSurplus(_ payment: Payment) -> Bool {
        guard let paymentKey = payment.paymentKey else { return false }
        let answer: TossPayment
        do {
            answer = try services.toss.cancelPayment(paymentKey: paymentKey, reason: PaymentSettlement.surplusRefundReason, amount: nil,
                                                     idempotencyKey: "surplus-" + payment.id)
        } catch {
            logger.error("surplus_refund_failed", ["payment_id": .string(payment.id), "code": .string(error.code)])
            // Already cancelled at Toss (by an operator, or an earlier refund whose answer was lost): take Toss's word.
            guard error.code == "ALREADY_CANCELED_PAYMENT", let current = try? services.toss.payment(paymentKey: paymentKey) else { return false }
            answer = current
        }
        let refunded = max(0, answer.totalAmount - answer.balanceAmount)
        do {
            try database.withConnection { connection in
                try connection.transaction {
                    guard try PaymentRepository(connection: connection).recordRefund(id: payment.id, refunded: refunded, tossStatus: answer.status,
                                                                                   transactionKey: answer.lastTransactionKey, now: now) else { return }
                    try AuditLogRepository(connection: connection).record(
                        actorID: nil, action: "payment.surplus_refund", objectType: "payment", objectID: payment.id,
                        before: ["status": .string(payment.status.rawValue), "refunded_amount": .int(payment.refundedAmount)],
                        after: ["status": .string(refunded >= payment.amount ? "CANCELLED" : "PARTIAL_CANCELLED"), "refunded_amount": .int(refunded),
                                "refund_amount": .int(refunded - payment.refundedAmount), "reason": .string(PaymentSettlement.surplusRefundReason),
                                "invoice_id": .optional(payment.invoiceID)],
                        now: now)
                }
            }
        } catch {
            logger.error("surplus_refund_unrecorded", ["payment_id": .string(payment.id), "error": .string(String(describing: error))])
            return false
        }
        logger.error("surplus_refunded", ["payment_id": .string(payment.id), "order_id": .string(payment.orderID), "amount": .int(refunded),
                                          "invoice_id": .optional(payment.invoiceID)])
        return true
    }
}
