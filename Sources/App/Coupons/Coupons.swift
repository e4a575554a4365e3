import Billing
import Foundation
import Storage
import Web

/// Redeeming coupons: at subscribe, by the customer later, or by staff. A redemption is checked (active, not expired,
/// for this plan, the subscription has none yet), counted against the limit with one conditional increment, and bound
/// to the subscription in the caller's transaction; the next period invoice made carries its DISCOUNT line.
struct Coupons {
    let database: Database
    let services: Services
    let now: Date

    static func redeem(code: String, on subscription: Subscription, planID: String, appliedBy: String?, connection: DatabaseConnection,
                       now: Date) throws {
        let coupons = CouponRepository(connection: connection)
        guard let coupon = try coupons.find(code: code), coupon.isActive else { throw CouponError.invalid }
        if let expiresAt = coupon.expiresAt, expiresAt <= now { throw CouponError.expired }
        guard coupon.planIDs.isEmpty || coupon.planIDs.contains(planID) else { throw CouponError.notApplicable }
        guard subscription.coupon == nil else { throw CouponError.alreadyApplied }
        guard try coupons.takeRedemption(id: coupon.id, now: now) else { throw CouponError.exhausted }
        do {
            try coupons.recordRedemption(couponID: coupon.id, subscriptionID: subscription.id, userID: subscription.userID, appliedBy: appliedBy, now: now)
        } catch let error as DatabaseError where error.isUniqueViolation {
            throw CouponError.alreadyApplied
        }
        guard try SubscriptionRepository(connection: connection).setCoupon(id: subscription.id, couponID: coupon.id, now: now) else {
            throw CouponError.alreadyApplied
        }
        try AuditLogRepository(connection: connection).record(
            actorID: appliedBy ?? subscription.userID, action: "subscription.coupon_applied", objectType: "subscription", objectID: subscription.id,
            before: nil, after: ["coupon_id": .string(coupon.id), "code": .string(coupon.code), "discount": .string(coupon.summary)], now: now)
    }

    /// `POST /api/subscriptions/{id}/coupon` (the customer) or the back office (`staffID`): from the next invoice on.
    func apply(subscriptionID: String, code: String, userID: String?, staffID: String? = nil) throws -> Subscription {
        try database.withConnection { connection in
            try connection.transaction {
                let subscriptions = SubscriptionRepository(connection: connection)
                let owned = try userID.map { try subscriptions.find(id: subscriptionID, userID: $0) } ?? subscriptions.find(id: subscriptionID)
                guard let owned else { throw SubscriptionError.subscriptionNotFound }
                try subscriptions.lock(id: owned.id)
                guard let current = try subscriptions.find(id: owned.id) else { throw SubscriptionError.subscriptionNotFound }
                guard !current.status.isFinal else { throw SubscriptionError.notActive }
                try Coupons.redeem(code: code, on: current, planID: current.plan.id, appliedBy: staffID, connection: connection, now: now)
                guard let saved = try subscriptions.find(id: current.id) else { throw SubscriptionError.subscriptionNotFound }
                return saved
            }
        }
    }

    func create(_ draft: CouponDraft, staffID: String) throws -> Coupon {
        try database.withConnection { connection in
            try connection.transaction {
                let coupons = CouponRepository(connection: connection)
                if try coupons.find(code: draft.code) != nil { throw CouponError.codeTaken }
                let plans = PlanRepository(connection: connection)
                for planID in draft.planIDs where try plans.find(id: planID) == nil { throw SubscriptionError.planNotFound }
                let id: String
                do {
                    id = try coupons.insert(draft, createdBy: staffID, now: now)
                } catch let error as DatabaseError where error.isUniqueViolation {
                    throw CouponError.codeTaken
                }
                try AuditLogRepository(connection: connection).record(actorID: staffID, action: "coupon.create", objectType: "coupon", objectID: id,
                                                                      before: nil, after: ["code": .string(draft.code)], now: now)
                guard let made = try coupons.find(id: id) else { throw CouponError.notFound }
                return made
            }
        }
    }

    func setActive(id: String, _ active: Bool, staffID: String) throws -> Coupon {
        try database.withConnection { connection in
            try connection.transaction {
                let coupons = CouponRepository(connection: connection)
                guard let coupon = try coupons.find(id: id) else { throw CouponError.notFound }
                try coupons.setActive(id: coupon.id, active, now: now)
                try AuditLogRepository(connection: connection).record(actorID: staffID, action: active ? "coupon.activate" : "coupon.deactivate",
                                                                      objectType: "coupon", objectID: coupon.id, before: nil, after: nil, now: now)
                guard let saved = try coupons.find(id: coupon.id) else { throw CouponError.notFound }
                return saved
            }
        }
    }
}

extension Exchange {
    var coupons: Coupons { Coupons(database: app.database, services: app.services, now: now) }
}
