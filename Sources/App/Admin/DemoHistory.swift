import Billing
import Foundation
import Storage

public struct DemoHistorySummary: Sendable, CustomStringConvertible {
    public let customers: Int
    public let subscriptions: Int
    public let payments: Int
    public let skipped: Bool

    public var description: String {
        skipped ? "demo customers already present; nothing inserted"
            : "inserted \(customers) demo customers, \(subscriptions) subscriptions, \(payments) payments"
    }
}

/// `gudok seed --demo-history`: about a year of customers, renewals, declines, refunds and cancellations written straight to
/// the database (no Toss call), so the back office has something to show. The subscriptions hold no billing key: when one
/// comes due, the biller records a NO_BILLING_KEY decline without calling Toss. Demo accounts cannot sign in.
enum DemoHistory {
    static let usernamePrefix = "demo-customer-"
    static let customerCount = 40

    static func seed(database: Database, calendar: BillingCalendar, dunning: DunningSchedule, now: Date) throws -> DemoHistorySummary {
        try database.withConnection { connection in
            try connection.transaction {
                if try connection.queryOne("SELECT id FROM users WHERE username_key LIKE ? LIMIT 1", [.text(usernamePrefix + "%")]) != nil {
                    return DemoHistorySummary(customers: 0, subscriptions: 0, payments: 0, skipped: true)
                }
                let plans = try PlanRepository(connection: connection).active()
                guard !plans.isEmpty else { return DemoHistorySummary(customers: 0, subscriptions: 0, payments: 0, skipped: true) }
                var writer = Writer(connection: connection, calendar: calendar, dunning: dunning, now: now)
                for number in 1...customerCount { try writer.customer(number, plans: plans) }
                try writer.refundSome()
                return DemoHistorySummary(customers: customerCount, subscriptions: writer.subscriptions, payments: writer.payments, skipped: false)
            }
        }
    }

    /// What becomes of one demo subscription.
    enum Fate {
        case renews
        case cancelsAt(Date)
        case cancelsAtPeriodEnd(requestedAt: Date)
        case cardDiesAt(Date)
    }

    struct Writer {
        let connection: DatabaseConnection
        let calendar: BillingCalendar
        let dunning: DunningSchedule
        let now: Date
        var random = SplitMix64(seed: 0x6775_646F_6B)
        var subscriptions = 0
        var payments = 0
        /// Completed payments (id, amount, subscription id, final status) a few refunds are chosen from.
        var paid: [(id: String, amount: Int)] = []

        static let companies = ["현대", "신한", "삼성", "국민", "롯데", "하나", "우리", "BC"]
        static let declines = [("REJECT_CARD_PAYMENT", "한도초과 혹은 잔액부족으로 결제에 실패했습니다."),
                               ("INVALID_CARD_EXPIRATION", "카드 정보를 다시 확인해주세요. (유효기간)"),
                               ("REJECT_CARD_COMPANY", "결제 승인이 거절되었습니다.")]

        mutating func customer(_ number: Int, plans: [Plan]) throws {
            let username = String(format: "%@%02d", DemoHistory.usernamePrefix, number)
            // More customers joined recently, as a growing service's do.
            let daysAgo = Int(395 * pow(random.unit(), 1.6)) + 1
            let joined = calendar.addingDays(-daysAgo, to: now).addingTimeInterval(Double(random.below(10 * 3600)) - 5 * 3600)
            let userID = Identifier.make()
            // "!" is no password hash: demo accounts cannot sign in.
            try connection.execute(
                "INSERT INTO users (id, username, username_key, email, password_hash, is_staff, is_active, created_at) VALUES (?, ?, ?, ?, '!', 0, 1, ?)",
                [.text(userID), .text(username), .text(username), .text(username + "@example.com"), .int(joined.unixSeconds)])
            let roll = random.below(100)
            let plan = plans[roll < 55 ? 0 : roll < 90 ? min(1, plans.count - 1) : plans.count - 1]
            let anchor = joined.addingTimeInterval(Double(60 + random.below(1800)))
            guard anchor < now else { return }
            let span = now.timeIntervalSince(anchor)
            let fateRoll = random.below(100)
            let fate: Fate = switch fateRoll {
            case ..<60: .renews
            case ..<74: .cancelsAt(anchor.addingTimeInterval(span * (0.2 + 0.8 * random.unit())))
            case ..<85: .cancelsAtPeriodEnd(requestedAt: anchor.addingTimeInterval(span * (0.1 + 0.9 * random.unit())))
            default: .cardDiesAt(anchor.addingTimeInterval(span * (0.3 + 0.7 * random.unit())))
            }
            try subscription(userID: userID, plan: plan, anchor: anchor, fate: fate)
        }

        private mutating func subscription(userID: String, plan: Plan, anchor: Date, fate: Fate) throws {
            let id = Identifier.make()
            let cycle = BillingCycle(rawValue: plan.billingCycle) ?? .monthly
            let customerKey = "demo_" + random.token(20)
            var state = SubscriptionState(status: .active, anchor: anchor)
            var updated = anchor
            var charges: [(period: Int, attempt: Int, at: Date, decline: (String, String)?)] = [(0, 1, anchor, nil)]
            var cancelRequested = false
            renewals: while true {
                guard let due = nextRenewalDate(state: state, calendar: calendar, cycle: cycle, dunning: dunning) else { break renewals }
                if case .cancelsAt(let at) = fate, at < due {
                    if case .success(let next) = state.applying(.cancelNow(at: at), dunning: dunning) { state = next }
                    updated = at
                    break renewals
                }
                if case .cancelsAtPeriodEnd(let at) = fate, !cancelRequested, at < due {
                    cancelRequested = true
                    if case .success(let next) = state.applying(.cancelAtPeriodEnd, dunning: dunning) { state = next }
                    updated = at
                }
                guard due <= now else { break renewals }
                switch renewalDecision(state: state, now: due, calendar: calendar, cycle: cycle, dunning: dunning) {
                case .expire:
                    if case .success(let next) = state.applying(.periodEndReachedWithCancel, dunning: dunning) { state = next }
                    updated = due
                case .charge(let period, let attempt, let dueAt):
                    var declined = false
                    if case .cardDiesAt(let at) = fate, dueAt >= at { declined = true }
                    // Now and then a card is declined once and the first retry goes through.
                    if attempt == 1, random.below(100) < 5 { declined = true }
                    let decline = declined ? Self.declines[random.below(Self.declines.count)] : nil
                    charges.append((period, attempt, dueAt, decline))
                    let event: SubscriptionEvent = declined ? .renewalDeclined(periodIndex: period) : .renewalSucceeded(periodIndex: period)
                    if case .success(let next) = state.applying(event, dunning: dunning) { state = next }
                    updated = dueAt
                case .notDue, .giveUp:
                    break renewals
                }
                if state.status.isFinal { break renewals }
            }
            let start = anchor
            let end = state.status == .cancelled ? state.cancelledAt : calendar.periodStart(anchor: anchor, cycle: cycle, index: state.currentPeriodIndex + 1)
            let next: Date? = switch state.status {
            case .active where state.cancelAtPeriodEnd: end
            case .active, .pastDue: nextRenewalDate(state: state, calendar: calendar, cycle: cycle, dunning: dunning)
            default: nil
            }
            let company = Self.companies[random.below(Self.companies.count)]
            let number = "\(4000 + random.below(6000))-\(10 + random.below(90))**-****-\(100 + random.below(900))*"
            try connection.execute(
                """
                INSERT INTO subscriptions (id, user_id, plan_id, status, customer_key, anchor_at, current_period, start_date, end_date, next_billing_date,
                cancel_at_period_end, failed_attempts, retry_immediately, card_company, card_number, cancelled_at, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?)
                """,
                [.text(id), .text(userID), .text(plan.id), .text(state.status.rawValue), .text(customerKey), .int(anchor.unixSeconds),
                 .int(Int64(state.currentPeriodIndex)), .int(start.unixSeconds), .optional(end.map { Int($0.unixSeconds) }),
                 .optional(next.map { Int($0.unixSeconds) }), .bool(state.cancelAtPeriodEnd), .int(Int64(state.failedAttempts)), .text(company),
                 .text(number), .optional(state.cancelledAt.map { Int($0.unixSeconds) }), .int(anchor.addingTimeInterval(-60).unixSeconds),
                 .int(updated.unixSeconds)])
            subscriptions += 1
            let orderName = "\(plan.name) \(CycleNames.label(plan.billingCycle)) 구독"
            for charge in charges {
                let paymentID = Identifier.make()
                let paidAt = charge.at.addingTimeInterval(2)
                try connection.execute(
                    """
                    INSERT INTO payments (id, subscription_id, user_id, payment_type, amount, status, order_id, order_name, payment_key, period_index, attempt,
                    payment_method, paid_at, failure_code, failure_reason, refunded_amount, toss_status, created_at, updated_at)
                    VALUES (?, ?, ?, 'SUBSCRIPTION', ?, ?, ?, ?, ?, ?, ?, '카드', ?, ?, ?, 0, ?, ?, ?)
                    """,
                    [.text(paymentID), .text(id), .text(userID), .int(Int64(plan.price)), .text(charge.decline == nil ? "COMPLETED" : "FAILED"),
                     .text(OrderID.renewal(subscriptionID: id, periodIndex: charge.period, attempt: charge.attempt)), .text(orderName),
                     .optional(charge.decline == nil ? "demo_" + random.token(24) : nil), .int(Int64(charge.period)), .int(Int64(charge.attempt)),
                     .optional(charge.decline == nil ? Int(paidAt.unixSeconds) : nil), .optional(charge.decline?.0), .optional(charge.decline?.1),
                     .optional(charge.decline == nil ? "DONE" : nil), .int(charge.at.unixSeconds), .int(paidAt.unixSeconds)])
                payments += 1
                if charge.decline == nil { paid.append((paymentID, plan.price)) }
            }
        }

        /// A few partial refunds and one full one, as a support desk makes them.
        mutating func refundSome() throws {
            guard paid.count > 10 else { return }
            for index in 0..<4 {
                let payment = paid[random.below(paid.count)]
                let full = index == 0
                let refunded = full ? payment.amount : max(100, payment.amount * (20 + random.below(40)) / 100 / 100 * 100)
                try connection.execute(
                    "UPDATE payments SET status = ?, refunded_amount = ?, toss_status = ? WHERE id = ? AND refunded_amount = 0",
                    [.text(full ? "CANCELLED" : "PARTIAL_CANCELLED"), .int(Int64(refunded)), .text(full ? "CANCELED" : "PARTIAL_CANCELED"),
                     .text(payment.id)])
            }
        }
    }
}

/// A small deterministic generator, so every demo history looks the same.
struct SplitMix64 {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }

    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }

    mutating func token(_ length: Int) -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        return String((0..<length).map { _ in alphabet[below(alphabet.count)] })
    }
}

extension Application {
    /// `gudok seed --demo-history`.
    /// The demo rows are written as gudok wrote payments before invoices; the backfill then gives them their invoices,
    /// exactly as `gudok migrate` does for an older database.
    public func seedDemoHistory(now: Date) throws -> DemoHistorySummary {
        let summary = try DemoHistory.seed(database: database, calendar: services.calendar, dunning: services.dunning, now: now)
        try backfillInvoices(now: now)
        return summary
    }

    /// Invoices for payments and orders made before invoices existed; a summary line for the command, nil when there were none.
    @discardableResult
    public func backfillInvoices(now: Date) throws -> String? {
        let summary = try InvoiceBackfill.run(database: database, calendar: services.calendar, now: now)
        return summary.isEmpty ? nil : summary.description
    }
}
