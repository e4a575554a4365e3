import Foundation
import Storage
import Toss

/// Settles a PENDING payment from what Toss says of its order: a renewal by the charger's rules, a checkout payment by
/// the subscription service's. Reconcile and webhooks both come here with the answer they fetched.
struct PaymentSettlement {
    let database: Database
    let services: Services
    let logger: Logger
    let now: Date

    static func isRenewal(_ payment: Payment) -> Bool { payment.orderID.hasPrefix("sub-") }

    func settle(_ payment: Payment, with answer: TossPayment) throws -> ChargeOutcome {
        if PaymentSettlement.isRenewal(payment) {
            return try Charger(database: database, services: services, logger: logger)
                .recordTossAnswer(answer, subscriptionID: payment.subscriptionID, orderID: payment.orderID, periodIndex: payment.periodIndex,
                                  attempt: payment.attempt, now: now)
        }
        return try SubscriptionService(database: database, services: services, logger: logger, now: now).settleLookedUp(answer, orderID: payment.orderID)
    }
}
