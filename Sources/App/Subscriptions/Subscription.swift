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
    /// The price this subscriber pays per period: the plan's price when they signed up, moved only by a plan change or a
    /// price change they consented to. Nil until the first period is paid (the plan's current price applies).
    var lockedPrice: Int?
    /// The plan it moves to at the end of the current period.
    var scheduledPlan: Plan?
    /// Won carried to the next period's invoice from a plan change: positive is owed, negative is a credit.
    var balance: Int
    /// A scheduled price change waiting for this subscriber, with their answer.
    var pendingPrice: PendingPrice?
    var coupon: AppliedCoupon?

    /// Columns to select: the subscription's own, its plan's prefixed `plan_`, the scheduled plan's prefixed `next_`, the
    /// open price consent's prefixed `consent_`, and the coupon's prefixed `cpn_` (with how many invoices used it).
    static let selectColumns = """
        s.*, p.id AS plan_id_, p.name AS plan_name, p.plan_type AS plan_plan_type, p.price AS plan_price, p.currency AS plan_currency,
        p.billing_cycle AS plan_billing_cycle, p.features AS plan_features, p.is_active AS plan_is_active,
        np.name AS next_name, np.plan_type AS next_plan_type, np.price AS next_price, np.currency AS next_currency,
        np.billing_cycle AS next_billing_cycle, np.features AS next_features, np.is_active AS next_is_active,
        pc.id AS consent_id, pc.old_amount AS consent_old_amount, pc.new_amount AS consent_new_amount,
        pc.effective_at AS consent_effective_at, pc.consent AS consent_state, pc.decided_at AS consent_decided_at,
        cp.code AS cpn_code, cp.percent_off AS cpn_percent_off, cp.amount_off AS cpn_amount_off, cp.duration AS cpn_duration,
        cp.duration_periods AS cpn_duration_periods,
        CASE WHEN s.coupon_id IS NULL THEN 0 ELSE (SELECT COUNT(*) FROM invoices ci WHERE ci.subscription_id = s.id AND ci.coupon_id = s.coupon_id
            AND ci.kind = 'PERIOD' AND ci.voided_at IS NULL) END AS cpn_periods_used
        """

    /// The tables `selectColumns` reads from, aliased `s`, `p`, `np`, `pc` and `cp`.
    static let fromTables = """
        subscriptions s JOIN plans p ON p.id = s.plan_id LEFT JOIN plans np ON np.id = s.scheduled_plan_id
        LEFT JOIN price_consents pc ON pc.subscription_id = s.id AND pc.applied_at IS NULL LEFT JOIN coupons cp ON cp.id = s.coupon_id
        """

    init(row: Row) throws {
        id = row.string("id")
        userID = row.string("user_id")
        plan = try Plan(row: row, prefix: "plan_", id: row.string("plan_id_"))
        state = SubscriptionState(status: try row.word("status"), anchor: row.optionalInt("anchor_at").map(Date.init(unixSeconds:)),
                                  anchorIndex: row.int("anchor_index"), currentPeriodIndex: row.int("current_period"),
                                  cancelAtPeriodEnd: row.bool("cancel_at_period_end"), failedAttempts: row.int("failed_attempts"),
                                  retryImmediately: row.bool("retry_immediately"),
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
        lockedPrice = row.optionalInt("price")
        scheduledPlan = try row.optionalString("scheduled_plan_id").map { try Plan(row: row, prefix: "next_", id: $0) }
        balance = row.int("balance")
        pendingPrice = try row.optionalString("consent_id").map { id in
            PendingPrice(consentID: id, oldAmount: row.int("consent_old_amount"), amount: row.int("consent_new_amount"),
                         effectiveAt: Date(unixSeconds: row.int("consent_effective_at")), consent: try row.word("consent_state"),
                         decidedAt: row.optionalInt("consent_decided_at").map(Date.init(unixSeconds:)))
        }
        coupon = try row.optionalString("coupon_id").map { id in
            let duration: Coupon.Duration = try row.word("cpn_duration")
            return AppliedCoupon(id: id, code: row.string("cpn_code"), percentOff: row.optionalInt("cpn_percent_off"),
                                 amountOff: row.optionalInt("cpn_amount_off"), periods: duration.periods(repeating: row.optionalInt("cpn_duration_periods")),
                                 periodsUsed: row.int("cpn_periods_used"))
        }
    }

    /// What the next period costs before lines carried from changes: the locked price, or the plan's while unpaid.
    var price: Int { lockedPrice ?? plan.price }

    /// The plan as this subscriber pays for it: its name and cycle, at their price.
    var pricedPlan: Plan {
        var priced = plan
        priced.price = price
        return priced
    }

    var cycle: BillingCycle { plan.cycle }

    subscript<Value>(dynamicMember keyPath: WritableKeyPath<SubscriptionState, Value>) -> Value {
        get { state[keyPath: keyPath] }
        set { state[keyPath: keyPath] = newValue }
    }

    /// Recomputes the dates shown to people and used by the biller's due query from the state.
    mutating func refreshDates(calendar: BillingCalendar, dunning: DunningSchedule) {
        guard let anchor = state.anchor else { return }
        if startDate == nil || state.anchorIndex == 0 { startDate = anchor }
        endDate = state.periodStart(state.currentPeriodIndex + 1, calendar: calendar, cycle: cycle)
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
                "cancel_at_period_end": .bool(state.cancelAtPeriodEnd), "card": cardJSON, "created_at": time(createdAt),
                "price": .int(price),
                "scheduled_change": scheduledPlan.map { ["plan": $0.json, "at": time(endDate)] } ?? .null,
                "coupon": coupon?.json ?? .null,
                "pending_price": (state.status.isOngoing ? pendingPrice?.json(zone: zone) : nil) ?? .null]
    }
}

struct SubscriptionRepository {
    let connection: DatabaseConnection

    private static let base = "SELECT \(Subscription.selectColumns) FROM \(Subscription.fromTables)"

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
            UPDATE subscriptions SET status = ?, anchor_at = ?, anchor_index = ?, current_period = ?, start_date = ?, end_date = ?, next_billing_date = ?,
            cancel_at_period_end = ?, failed_attempts = ?, retry_immediately = ?, cancelled_at = ?, updated_at = ?, version = version + 1
            WHERE id = ? AND version = ?
            """,
            [.text(s.status.rawValue), .optional(s.anchor.map { Int($0.unixSeconds) }), .int(Int64(s.anchorIndex)), .int(Int64(s.currentPeriodIndex)),
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

    /// Serves `planID` at `price` from now on: activation (the paid invoice's plan, whatever the subscription pointed at
    /// meanwhile), a paid upgrade, a scheduled change reaching its period. Clears any scheduled change.
    func setPlan(id: String, planID: String, price: Int) throws {
        try connection.execute("UPDATE subscriptions SET plan_id = ?, price = ?, scheduled_plan_id = NULL, version = version + 1 WHERE id = ?",
                               [.text(planID), .int(Int64(price)), .text(id)])
    }

    /// Binds a redeemed coupon; false if the subscription has one already.
    func setCoupon(id: String, couponID: String, now: Date) throws -> Bool {
        try connection.execute("UPDATE subscriptions SET coupon_id = ?, updated_at = ?, version = version + 1 WHERE id = ? AND coupon_id IS NULL",
                               [.text(couponID), .int(now.unixSeconds), .text(id)]) == 1
    }

    /// A consented (or lower) price from the next period on.
    func setPrice(id: String, price: Int) throws {
        try connection.execute("UPDATE subscriptions SET price = ?, version = version + 1 WHERE id = ?", [.int(Int64(price)), .text(id)])
    }

    /// Schedules (or with nil, undoes) a move to another plan at the end of the current period, if the row is still at the
    /// version `s` was read at.
    func schedulePlan(_ s: Subscription, planID: String?, now: Date) throws -> Bool {
        try connection.execute("UPDATE subscriptions SET scheduled_plan_id = ?, updated_at = ?, version = version + 1 WHERE id = ? AND version = ?",
                               [.optional(planID), .int(now.unixSeconds), .text(s.id), .int(Int64(s.version))]) == 1
    }

    /// Moves the carried balance by `delta` if it is still `expected` (the value the invoice being made was priced from).
    func moveBalance(id: String, expected: Int, by delta: Int) throws -> Bool {
        try connection.execute("UPDATE subscriptions SET balance = balance + ? WHERE id = ? AND balance = ?",
                               [.int(Int64(delta)), .text(id), .int(Int64(expected))]) == 1
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
