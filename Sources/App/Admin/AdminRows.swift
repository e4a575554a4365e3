import Billing
import Foundation
import Storage
import Web

/// A plan with how many subscriptions use it.
struct AdminPlanRow: Sendable {
    let plan: Plan
    let subscriptionCount: Int
    let liveCount: Int
    let createdAt: Date
    let updatedAt: Date

    init(row: Row) throws {
        plan = try Plan(row: row)
        subscriptionCount = row.int("subscription_count")
        liveCount = row.int("live_count")
        createdAt = Date(unixSeconds: row.int("created_at"))
        updatedAt = Date(unixSeconds: row.int("updated_at"))
    }

    func json(zone: TimeZone) -> JSON {
        guard case .object(var object) = plan.json else { return plan.json }
        object["subscription_count"] = .int(subscriptionCount)
        object["active_subscription_count"] = .int(liveCount)
        object["created_at"] = .string(RFC3339.format(createdAt, in: zone))
        object["updated_at"] = .string(RFC3339.format(updatedAt, in: zone))
        return .object(object)
    }
}

/// Who a subscription or payment belongs to, as the back office shows it.
struct AdminOwner: Sendable {
    let id: String
    let username: String
    let email: String

    var json: JSON { ["id": .string(id), "username": .string(username), "email": .string(email)] }
}

struct AdminSubscriptionRow: Sendable {
    let subscription: Subscription
    let owner: AdminOwner
    let updatedAt: Date

    init(row: Row) throws {
        subscription = try Subscription(row: row)
        owner = AdminOwner(id: row.string("user_id"), username: row.string("owner_username"), email: row.string("owner_email"))
        updatedAt = Date(unixSeconds: row.int("updated_at"))
    }

    /// The API's Subscription shape (docs/api.md#json-shapes) plus what staff need; the billing key never appears, only the card's company and masked number.
    func json(zone: TimeZone) -> JSON {
        let s = subscription
        guard case .object(var object) = s.json(zone: zone) else { return s.json(zone: zone) }
        object["card"] = s.cardNumber != nil || s.cardCompany != nil
            ? ["company": .optional(s.cardCompany), "number": .optional(s.cardNumber), "billing_key_registered": .bool(s.hasCard)] : .null
        object["user"] = owner.json
        object["current_period"] = .int(s.currentPeriodIndex)
        object["failed_attempts"] = .int(s.failedAttempts)
        object["cancelled_at"] = s.cancelledAt.map { .string(RFC3339.format($0, in: zone)) } ?? .null
        object["updated_at"] = .string(RFC3339.format(updatedAt, in: zone))
        return .object(object)
    }
}

struct AdminPaymentRow: Sendable {
    let payment: Payment
    let owner: AdminOwner
    let customerKey: String
    let planName: String

    init(row: Row) throws {
        payment = try Payment(row: row)
        owner = AdminOwner(id: row.string("user_id"), username: row.string("owner_username"), email: row.string("owner_email"))
        customerKey = row.string("owner_customer_key")
        planName = row.string("owner_plan_name")
    }

    /// The API's Payment shape (docs/api.md#json-shapes) plus the Toss fields staff look up.
    func json(zone: TimeZone) -> JSON {
        guard case .object(var object) = payment.json(zone: zone) else { return payment.json(zone: zone) }
        object["payment_key"] = .optional(payment.paymentKey)
        object["order_name"] = .string(payment.orderName)
        object["period_index"] = .int(payment.periodIndex)
        object["attempt"] = .int(payment.attempt)
        object["refundable_amount"] = .int(RefundRules.balance(of: payment))
        object["customer_key"] = .string(customerKey)
        object["plan_name"] = .string(planName)
        object["user"] = owner.json
        return .object(object)
    }
}

struct AdminUserRow: Sendable {
    let id: String
    let username: String
    let email: String
    let isStaff: Bool
    let isActive: Bool
    let createdAt: Date
    let lastLogin: Date?
    let subscriptionCount: Int
    let latestStatus: String?

    init(row: Row) {
        id = row.string("id")
        username = row.string("username")
        email = row.string("email")
        isStaff = row.bool("is_staff")
        isActive = row.bool("is_active")
        createdAt = Date(unixSeconds: row.int("created_at"))
        lastLogin = row.optionalInt("last_login").map(Date.init(unixSeconds:))
        subscriptionCount = row.int("subscription_count")
        latestStatus = row.optionalString("latest_status")
    }

    func json(zone: TimeZone) -> JSON {
        ["id": .string(id), "username": .string(username), "email": .string(email), "is_staff": .bool(isStaff), "is_active": .bool(isActive),
         "created_at": .string(RFC3339.format(createdAt, in: zone)), "last_login": lastLogin.map { .string(RFC3339.format($0, in: zone)) } ?? .null,
         "subscription_count": .int(subscriptionCount), "latest_subscription_status": .optional(latestStatus)]
    }
}

struct AdminWebhookEventRow: Sendable {
    let id: String
    let eventType: String
    let transmissionID: String?
    let paymentKey: String?
    let receivedAt: Date
    let outcome: String
    let detail: String?
    let payload: String?

    init(row: Row, withPayload: Bool = false) {
        id = row.string("id")
        eventType = row.string("event_type")
        transmissionID = row.optionalString("transmission_id")
        paymentKey = row.optionalString("payment_key")
        receivedAt = Date(unixSeconds: row.int("received_at"))
        outcome = row.string("outcome")
        detail = row.optionalString("detail")
        payload = withPayload ? row.optionalString("payload") : nil
    }

    func json(zone: TimeZone) -> JSON {
        var object: JSONObject = ["id": .string(id), "event_type": .string(eventType), "transmission_id": .optional(transmissionID),
                                  "payment_key": .optional(paymentKey), "received_at": .string(RFC3339.format(receivedAt, in: zone)),
                                  "outcome": .string(outcome), "detail": .optional(detail)]
        if let payload { object["payload"] = (try? JSON.parse(payload)) ?? .string(payload) }
        return .object(object)
    }
}
