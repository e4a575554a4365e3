import Billing
import Foundation
import Storage
import Web

/// A subscription row with its plan. Its billing state is the pure `SubscriptionState` the state machine reads and writes;
/// `subscription.status`, `.anchor`, `.currentPeriodIndex`, … read through to it.
@dynamicMemberLookup
struct Subscription: Sendable {
    var id: String
    var userID: String
    var plan: Plan
    var state: SubscriptionState
    var customerKey: String
    var startDate: Date?
    var endDate: Date?
    var nextBillingDate: Date?
    var sealedBillingKey: String?
    var cardCompany: String?
    var cardNumber: String?
    var createdAt: Date
    /// Bumped by every write; a save names the version it read (compare-and-set).
    var version: Int
    /// Why charging is stopped through no fault of the customer's (e.g. `BILLING_KEY_UNREADABLE`).
    var chargeBlocked: String?

    /// Columns to select: the subscription's own, plus its plan's prefixed `plan_`.
    static let selectColumns = """
        s.*, p.id AS plan_id_, p.name AS plan_name, p.plan_type AS plan_plan_type, p.price AS plan_price, p.currency AS plan_currency,
        p.billing_cycle AS plan_billing_cycle, p.features AS plan_features, p.is_active AS plan_is_active
        """

    init(row: Row) throws {
        id = row.string("id")
        userID = row.string("user_id")
        let features = (try? JSON.parse(row.string("plan_features")))?.arrayValue?.compactMap(\.stringValue) ?? []
        plan = Plan(id: row.string("plan_id_"), name: row.string("plan_name"), planType: row.string("plan_plan_type"), price: row.int("plan_price"),
                    currency: row.string("plan_currency"), billingCycle: row.string("plan_billing_cycle"), features: features,
                    isActive: row.bool("plan_is_active"))
        state = SubscriptionState(status: try row.word("status"), anchor: row.optionalInt("anchor_at").map(Date.init(unixSeconds:)),
                                  currentPeriodIndex: row.int("current_period"), cancelAtPeriodEnd: row.bool("cancel_at_period_end"),
                                  failedAttempts: row.int("failed_attempts"), retryImmediately: row.bool("retry_immediately"),
                                  cancelledAt: row.optionalInt("cancelled_at").map(Date.init(unixSeconds:)))
        customerKey = row.string("customer_key")
        startDate = row.optionalInt("start_date").map(Date.init(unixSeconds:))
        endDate = row.optionalInt("end_date").map(Date.init(unixSeconds:))
        nextBillingDate = row.optionalInt("next_billing_date").map(Date.init(unixSeconds:))
        sealedBillingKey = row.optionalString("billing_key_sealed")
        cardCompany = row.optionalString("card_company")
        cardNumber = row.optionalString("card_number")
        createdAt = Date(unixSeconds: row.int("created_at"))
        version = row.int("version")
        chargeBlocked = row.optionalString("charge_blocked")
    }

    var cycle: BillingCycle { plan.cycle }

    subscript<Value>(dynamicMember keyPath: WritableKeyPath<SubscriptionState, Value>) -> Value {
        get { state[keyPath: keyPath] }
        set { state[keyPath: keyPath] = newValue }
    }

    /// Recomputes the dates shown to people and used by the biller's due query from the state.
    mutating func refreshDates(calendar: BillingCalendar, dunning: DunningSchedule) {
        guard let anchor = state.anchor else { return }
        startDate = anchor
        endDate = calendar.periodStart(anchor: anchor, cycle: cycle, index: state.currentPeriodIndex + 1)
        switch state.status {
        case .active where state.cancelAtPeriodEnd: nextBillingDate = endDate
        case .active, .pastDue: nextBillingDate = nextRenewalDate(state: state, calendar: calendar, cycle: cycle, dunning: dunning)
        case .pending, .cancelled, .expired, .inactive: nextBillingDate = nil
        }
    }

    var hasCard: Bool { sealedBillingKey != nil }

    /// `{company, number}` of the registered card (masked as Toss gave it); null without one. Never the billing key.
    var cardJSON: JSON { hasCard ? ["company": .optional(cardCompany), "number": .optional(cardNumber)] : .null }

    func json(zone: TimeZone) -> JSON {
        func time(_ date: Date?) -> JSON { date.map { .string(RFC3339.format($0, in: zone)) } ?? .null }
        return ["id": .string(id), "plan": plan.json, "status": .string(state.status.rawValue), "customer_key": .string(customerKey),
                "start_date": time(startDate), "end_date": time(endDate), "next_billing_date": time(nextBillingDate),
                "cancel_at_period_end": .bool(state.cancelAtPeriodEnd), "card": cardJSON, "created_at": time(createdAt)]
    }
}

struct SubscriptionRepository {
    let connection: DatabaseConnection

    private static let base = "SELECT \(Subscription.selectColumns) FROM subscriptions s JOIN plans p ON p.id = s.plan_id"

    func find(id: String) throws -> Subscription? {
        guard let canonical = Identifier.canonical(id) else { return nil }
        return try connection.queryOne(Self.base + " WHERE s.id = ?", [.text(canonical)]).map(Subscription.init(row:))
    }

    /// A user's subscription; another user's id answers nil (404, never 403).
    func find(id: String, userID: String) throws -> Subscription? {
        guard let canonical = Identifier.canonical(id) else { return nil }
        return try connection.queryOne(Self.base + " WHERE s.id = ? AND s.user_id = ?", [.text(canonical), .text(userID)]).map(Subscription.init(row:))
    }

    func find(customerKey: String, userID: String) throws -> Subscription? {
        try connection.queryOne(Self.base + " WHERE s.customer_key = ? AND s.user_id = ?", [.text(customerKey), .text(userID)])
            .map(Subscription.init(row:))
    }

    func find(customerKey: String) throws -> Subscription? {
        try connection.queryOne(Self.base + " WHERE s.customer_key = ?", [.text(customerKey)]).map(Subscription.init(row:))
    }

    func forUser(_ userID: String) throws -> [Subscription] {
        try connection.query(Self.base + " WHERE s.user_id = ? ORDER BY s.created_at DESC, s.id DESC", [.text(userID)]).map(Subscription.init(row:))
    }

    func insert(id: String, userID: String, planID: String, customerKey: String, now: Date) throws {
        try connection.execute(
            "INSERT INTO subscriptions (id, user_id, plan_id, status, customer_key, created_at, updated_at) VALUES (?, ?, ?, 'PENDING', ?, ?, ?)",
            [.text(id), .text(userID), .text(planID), .text(customerKey), .int(now.unixSeconds), .int(now.unixSeconds)])
    }

    /// Writes the billing state and dates if the row is still at the version `s` was read at; false means someone else
    /// changed it first (re-read and decide again).
    func saveState(_ s: Subscription, now: Date) throws -> Bool {
        try connection.execute(
            """
            UPDATE subscriptions SET status = ?, anchor_at = ?, current_period = ?, start_date = ?, end_date = ?, next_billing_date = ?,
            cancel_at_period_end = ?, failed_attempts = ?, retry_immediately = ?, cancelled_at = ?, updated_at = ?, version = version + 1
            WHERE id = ? AND version = ?
            """,
            [.text(s.status.rawValue), .optional(s.anchor.map { Int($0.unixSeconds) }), .int(Int64(s.currentPeriodIndex)),
             .optional(s.startDate.map { Int($0.unixSeconds) }), .optional(s.endDate.map { Int($0.unixSeconds) }),
             .optional(s.nextBillingDate.map { Int($0.unixSeconds) }), .bool(s.cancelAtPeriodEnd), .int(Int64(s.failedAttempts)),
             .bool(s.retryImmediately), .optional(s.cancelledAt.map { Int($0.unixSeconds) }), .int(now.unixSeconds), .text(s.id),
             .int(Int64(s.version))]) == 1
    }

    /// Moves a PENDING subscription to another plan; false if it is no longer PENDING at the version read.
    func switchPendingPlan(_ s: Subscription, to planID: String, now: Date) throws -> Bool {
        try connection.execute(
            "UPDATE subscriptions SET plan_id = ?, updated_at = ?, version = version + 1 WHERE id = ? AND status = 'PENDING' AND version = ?",
            [.text(planID), .int(now.unixSeconds), .text(s.id), .int(Int64(s.version))]) == 1
    }

    /// Activation serves the paid invoice's plan, whatever the subscription pointed at meanwhile.
    func setPlan(id: String, planID: String) throws {
        try connection.execute("UPDATE subscriptions SET plan_id = ? WHERE id = ?", [.text(planID), .text(id)])
    }

    /// Serializes settlements and customer actions on one subscription within a transaction (PostgreSQL row lock; SQLite
    /// transactions already hold the database's write lock).
    func lock(id: String) throws {
        guard connection.dialect == .postgres else { return }
        try connection.execute("SELECT id FROM subscriptions WHERE id = ? FOR UPDATE", [.text(id)])
    }

    func setChargeBlocked(id: String, reason: String?, now: Date) throws {
        try connection.execute("UPDATE subscriptions SET charge_blocked = ?, updated_at = ? WHERE id = ? AND charge_blocked IS DISTINCT FROM ?",
                               [.optional(reason), .int(now.unixSeconds), .text(id), .optional(reason)])
    }

    func saveCard(id: String, sealedBillingKey: String?, digest: String?, company: String?, number: String?, now: Date) throws {
        try connection.execute(
            """
            UPDATE subscriptions SET billing_key_sealed = ?, billing_key_digest = ?, card_company = ?, card_number = ?, charge_blocked = NULL,
            updated_at = ?, version = version + 1 WHERE id = ?
            """,
            [.optional(sealedBillingKey), .optional(digest), .optional(company), .optional(number), .int(now.unixSeconds), .text(id)])
    }

    func find(billingKeyDigest digest: String) throws -> [Subscription] {
        try connection.query(Self.base + " WHERE s.billing_key_digest = ?", [.text(digest)]).map(Subscription.init(row:))
    }
}
