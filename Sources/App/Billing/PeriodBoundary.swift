import Billing
import Foundation
import Storage
import Web

/// What changes where one period ends and the next is invoiced: a scheduled plan change takes effect (re-anchoring on a
/// change of billing cycle), and a price change whose date has come applies — or, an increase the subscriber has not
/// agreed to, ends the subscription at this period end with no charge (전자상거래법 시행령: no increase without consent).
struct PeriodBoundary {
    let database: Database
    let services: Services
    let logger: Logger
    let now: Date

    /// True when the subscription was changed (read it again before charging); false when the period renews as it is.
    func apply(to subscription: Subscription, period: Int) throws -> Bool {
        guard let start = subscription.state.periodStart(period, calendar: services.calendar, cycle: subscription.cycle) else { return false }
        let priceDue = subscription.pendingPrice.map { $0.effectiveAt <= start } ?? false
        guard subscription.scheduledPlan != nil || priceDue else { return false }
        return try database.withConnection { connection in
            try connection.transaction {
                let subscriptions = SubscriptionRepository(connection: connection)
                try subscriptions.lock(id: subscription.id)
                guard let current = try subscriptions.find(id: subscription.id), current.version == subscription.version else { return true }
                // An invoice made for the period already fixed its price.
                if try InvoiceRepository(connection: connection).period(subscriptionID: current.id, index: period) != nil { return false }
                if let next = current.scheduledPlan {
                    try switchPlan(current, to: next, period: period, start: start, connection)
                } else if let pending = current.pendingPrice, pending.effectiveAt <= start {
                    try applyPrice(pending, current, connection)
                }
                return true
            }
        }
    }

    private func switchPlan(_ current: Subscription, to next: Plan, period: Int, start: Date, _ connection: DatabaseConnection) throws {
        let subscriptions = SubscriptionRepository(connection: connection)
        if next.cycle != current.cycle {
            var moved = current
            moved.plan = next
            moved.state.reanchor(at: period, start: start)
            moved.refreshDates(calendar: services.calendar, dunning: services.dunning)
            guard try subscriptions.saveState(moved, now: now) else { return }
        }
        try subscriptions.setPlan(id: current.id, planID: next.id, price: next.price)
        // A price change asked about the plan being left no longer concerns this subscriber.
        if let pending = current.pendingPrice {
            _ = try PriceChangeRepository(connection: connection).close(consentID: pending.consentID, outcome: "SUPERSEDED", now: now)
        }
        try audit("subscription.plan_changed", current, before: ["plan_id": .string(current.plan.id), "price": .int(current.price)],
                  after: ["plan_id": .string(next.id), "price": .int(next.price), "when": "period_end", "period": .int(period)], connection)
    }

    private func applyPrice(_ pending: PendingPrice, _ current: Subscription, _ connection: DatabaseConnection) throws {
        let changes = PriceChangeRepository(connection: connection)
        if !pending.isIncrease || pending.consent == .given {
            try SubscriptionRepository(connection: connection).setPrice(id: current.id, price: pending.amount)
            _ = try changes.close(consentID: pending.consentID, outcome: "APPLIED", now: now)
            try audit("subscription.price_changed", current, before: ["price": .int(current.price)],
                      after: ["price": .int(pending.amount), "consent": .string(pending.consent.rawValue)], connection)
            return
        }
        // No consent to the increase: the period that was paid for is the last one.
        guard case .applied = try SubscriptionLifecycle(connection: connection, services: services, now: now).apply(.cancelAtPeriodEnd, to: current)
        else { return }
        _ = try changes.close(consentID: pending.consentID, outcome: "ENDED", now: now)
        try audit("subscription.price_not_accepted", current, before: ["price": .int(current.price)],
                  after: ["declined_price": .int(pending.amount), "consent": .string(pending.consent.rawValue), "ends_at_period_end": true], connection)
        logger.info("price_increase_not_accepted", ["subscription_id": .string(current.id), "consent": .string(pending.consent.rawValue)])
    }

    private func audit(_ action: String, _ subscription: Subscription, before: JSON, after: JSON, _ connection: DatabaseConnection) throws {
        try AuditLogRepository(connection: connection).record(actorID: nil, action: action, objectType: "subscription", objectID: subscription.id,
                                                              before: before, after: after, now: now)
    }
}
