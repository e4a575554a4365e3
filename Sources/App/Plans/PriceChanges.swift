import Billing
import Foundation
import Storage
import Web

/// A plan's price change for its current subscribers, scheduled by the operator at least 30 days out.
struct PriceChange: Sendable {
    var id: String
    var planID: String
    var amount: Int
    var effectiveAt: Date
    var createdAt: Date
    var withdrawnAt: Date?
    /// How many subscribers stand at each answer (`PENDING`, `GIVEN`, `DECLINED`, `NOT_REQUIRED`).
    var consents: [String: Int]
    /// How many were applied, ended, superseded or withdrawn at their renewal.
    var outcomes: [String: Int]

    func json(zone: TimeZone) -> JSON {
        ["id": .string(id), "plan_id": .string(planID), "amount": .int(amount), "effective_at": .string(RFC3339.format(effectiveAt, in: zone)),
         "created_at": .string(RFC3339.format(createdAt, in: zone)),
         "withdrawn_at": withdrawnAt.map { .string(RFC3339.format($0, in: zone)) } ?? .null,
         "subscribers": .int(consents.values.reduce(0, +)),
         "consents": .object(JSONObject(consents.map { ($0.key, JSON.int($0.value)) }.sorted { $0.0 < $1.0 })),
         "outcomes": .object(JSONObject(outcomes.map { ($0.key, JSON.int($0.value)) }.sorted { $0.0 < $1.0 }))]
    }
}

/// The only writer of `price_changes` and `price_consents`.
struct PriceChangeRepository {
    let connection: DatabaseConnection

    func forPlan(_ planID: String) throws -> [PriceChange] {
        try connection.query("SELECT * FROM price_changes WHERE plan_id = ? ORDER BY created_at DESC", [.text(planID)]).map(change(_:))
    }

    func find(id: String) throws -> PriceChange? {
        guard let canonical = Identifier.canonical(id) else { return nil }
        return try connection.queryOne("SELECT * FROM price_changes WHERE id = ?", [.text(canonical)]).map(change(_:))
    }

    /// A change of the plan that is neither withdrawn nor past its effective date.
    func upcoming(planID: String, now: Date) throws -> PriceChange? {
        try connection.queryOne("SELECT * FROM price_changes WHERE plan_id = ? AND withdrawn_at IS NULL AND effective_at > ? ORDER BY created_at DESC",
                                [.text(planID), .int(now.unixSeconds)]).map(change(_:))
    }

    private func change(_ row: Row) throws -> PriceChange {
        let id = row.string("id")
        var consents: [String: Int] = [:]
        var outcomes: [String: Int] = [:]
        for count in try connection.query("SELECT consent, outcome, COUNT(*) AS n FROM price_consents WHERE price_change_id = ? GROUP BY consent, outcome",
                                           [.text(id)]) {
            consents[count.string("consent"), default: 0] += count.int("n")
            if let outcome = count.optionalString("outcome") { outcomes[outcome, default: 0] += count.int("n") }
        }
        return PriceChange(id: id, planID: row.string("plan_id"), amount: row.int("amount"), effectiveAt: Date(unixSeconds: row.int("effective_at")),
                           createdAt: Date(unixSeconds: row.int("created_at")), withdrawnAt: row.optionalInt("withdrawn_at").map(Date.init(unixSeconds:)),
                           consents: consents, outcomes: outcomes)
    }

    func insert(id: String, planID: String, amount: Int, effectiveAt: Date, createdBy: String?, now: Date) throws {
        try connection.execute("INSERT INTO price_changes (id, plan_id, amount, effective_at, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                               [.text(id), .text(planID), .int(Int64(amount)), .int(effectiveAt.unixSeconds), .optional(createdBy), .int(now.unixSeconds)])
    }

    /// The subscribers the change asks: ACTIVE or PAST_DUE on the plan, paying another price. One without an answer
    /// pending elsewhere gets a row; a decrease needs no answer.
    func addConsents(change id: String, planID: String, amount: Int, effectiveAt: Date, now: Date) throws -> Int {
        let subscribers = try connection.query(
            """
            SELECT s.id AS id, COALESCE(s.price, p.price) AS price FROM subscriptions s JOIN plans p ON p.id = s.plan_id
            WHERE s.plan_id = ? AND s.status IN ('ACTIVE', 'PAST_DUE') AND COALESCE(s.price, p.price) <> ?
            AND NOT EXISTS (SELECT 1 FROM price_consents c WHERE c.subscription_id = s.id AND c.applied_at IS NULL)
            """, [.text(planID), .int(Int64(amount))])
        for subscriber in subscribers {
            let old = subscriber.int("price")
            let consent: PriceConsent = amount > old ? .pending : .notRequired
            try connection.execute(
                """
                INSERT INTO price_consents (id, price_change_id, subscription_id, plan_id, old_amount, new_amount, effective_at, consent, created_at,
                updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                [.text(Identifier.make()), .text(id), .text(subscriber.string("id")), .text(planID), .int(Int64(old)), .int(Int64(amount)),
                 .int(effectiveAt.unixSeconds), .text(consent.rawValue), .int(now.unixSeconds), .int(now.unixSeconds)])
        }
        return subscribers.count
    }

    /// Records a subscriber's answer while the change is still waiting; false once it was applied (or withdrawn).
    func decide(consentID: String, consent: PriceConsent, ip: String, textShown: String, now: Date) throws -> Bool {
        try connection.execute(
            """
            UPDATE price_consents SET consent = ?, decided_at = ?, decided_ip = ?, text_shown = ?, updated_at = ?
            WHERE id = ? AND applied_at IS NULL AND consent IN ('PENDING', 'GIVEN', 'DECLINED')
            """,
            [.text(consent.rawValue), .int(now.unixSeconds), .text(ip), .text(textShown), .int(now.unixSeconds), .text(consentID)]) == 1
    }

    /// Closes a subscriber's waiting change with what became of it (APPLIED, ENDED, SUPERSEDED).
    func close(consentID: String, outcome: String, now: Date) throws -> Bool {
        try connection.execute("UPDATE price_consents SET outcome = ?, applied_at = ?, updated_at = ? WHERE id = ? AND applied_at IS NULL",
                               [.text(outcome), .int(now.unixSeconds), .int(now.unixSeconds), .text(consentID)]) == 1
    }

    func withdraw(id: String, now: Date) throws -> Bool {
        guard try connection.execute("UPDATE price_changes SET withdrawn_at = ? WHERE id = ? AND withdrawn_at IS NULL",
                                     [.int(now.unixSeconds), .text(id)]) == 1 else { return false }
        try connection.execute("UPDATE price_consents SET outcome = 'WITHDRAWN', applied_at = ?, updated_at = ? WHERE price_change_id = ? AND applied_at IS NULL",
                               [.int(now.unixSeconds), .int(now.unixSeconds), .text(id)])
        return true
    }
}

/// What a subscriber is shown and asked about a price change; the exact text is stored with their answer.
enum PriceChangeNotice {
    static func text(planName: String, pending: PendingPrice, zone: TimeZone) -> String {
        let date = koreanDate(pending.effectiveAt, zone: zone)
        guard pending.isIncrease else {
            return "\(planName) 요금이 \(date)부터 \(Won.format(pending.oldAmount))에서 \(Won.format(pending.amount))으로 내려갑니다. 따로 하실 일은 없습니다."
        }
        return "\(planName) 요금이 \(date) 이후 첫 정기결제부터 \(Won.format(pending.oldAmount))에서 \(Won.format(pending.amount))으로 오릅니다. "
            + "동의하시면 새 요금으로 계속 이용하실 수 있고, 동의하지 않으시면 그 결제일에 추가 결제 없이 구독이 종료됩니다. "
            + "동의는 그 전까지 언제든 철회할 수 있으며, 구독 해지는 내 계정(/account)에서 버튼 하나로 할 수 있습니다."
    }
}

/// "2027년 1월 15일" in the zone.
func koreanDate(_ date: Date, zone: TimeZone) -> String {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = zone
    let parts = calendar.dateComponents([.year, .month, .day], from: date)
    return "\(parts.year ?? 0)년 \(parts.month ?? 0)월 \(parts.day ?? 0)일"
}

/// The operator schedules price changes; subscribers answer them.
struct PriceChanges {
    /// 전자상거래법 시행령: the notice of an increase comes at least 30 days before it.
    static let minimumNotice: TimeInterval = 30 * 86_400

    let database: Database
    let services: Services
    let now: Date

    enum PriceChangeError: Error, HTTPErrorConvertible {
        case planNotFound
        case tooSoon(earliest: Date)
        case invalidAmount
        case alreadyScheduled
        case notFound

        var httpError: HTTPError {
            switch self {
            case .planNotFound: HTTPError(404, code: "PLAN_NOT_FOUND", message: "요금제를 찾을 수 없습니다.")
            case .tooSoon(let earliest):
                HTTPError(400, code: "EFFECTIVE_DATE_TOO_SOON",
                          message: "가격 변경은 고지 후 30일이 지나야 적용할 수 있습니다 (가장 이른 날짜: \(RFC3339.format(earliest, in: TimeZone(identifier: "Asia/Seoul")!))).")
            case .invalidAmount:
                HTTPError(400, code: "INVALID_FIELD", message: "amount는 \(Won.format(PlanDraft.priceRange.lowerBound)) ~ \(Won.format(PlanDraft.priceRange.upperBound)) 사이의 정수(원)여야 합니다.")
            case .alreadyScheduled: HTTPError(409, code: "PRICE_CHANGE_PENDING", message: "이 요금제에는 이미 예정된 가격 변경이 있습니다. 먼저 철회해 주세요.")
            case .notFound: HTTPError(404, code: "PRICE_CHANGE_NOT_FOUND", message: "가격 변경을 찾을 수 없습니다.")
            }
        }
    }

    /// Schedules `amount` for the plan's current subscribers from `effectiveAt` on, and asks each of them.
    func schedule(planID: String, amount: Int?, effectiveAt: Date, staffID: String) throws -> PriceChange {
        let earliest = now.addingTimeInterval(PriceChanges.minimumNotice)
        guard effectiveAt >= earliest else { throw PriceChangeError.tooSoon(earliest: earliest) }
        return try database.withConnection { connection in
            try connection.transaction {
                let plans = PlanRepository(connection: connection)
                guard let plan = try plans.find(id: planID) else { throw PriceChangeError.planNotFound }
                let newAmount = amount ?? plan.price
                guard PlanDraft.priceRange.contains(newAmount) else { throw PriceChangeError.invalidAmount }
                let changes = PriceChangeRepository(connection: connection)
                if try changes.upcoming(planID: plan.id, now: now) != nil { throw PriceChangeError.alreadyScheduled }
                let id = Identifier.make()
                try changes.insert(id: id, planID: plan.id, amount: newAmount, effectiveAt: effectiveAt, createdBy: staffID, now: now)
                let asked = try changes.addConsents(change: id, planID: plan.id, amount: newAmount, effectiveAt: effectiveAt, now: now)
                try AuditLogRepository(connection: connection).record(
                    actorID: staffID, action: "plan.price_change_scheduled", objectType: "plan", objectID: plan.id, before: ["price": .int(plan.price)],
                    after: ["price_change_id": .string(id), "amount": .int(newAmount),
                            "effective_at": .string(RFC3339.format(effectiveAt, in: services.calendar.timeZone)), "subscribers": .int(asked)],
                    now: now)
                guard let made = try changes.find(id: id) else { throw PriceChangeError.notFound }
                return made
            }
        }
    }

    func withdraw(id: String, staffID: String) throws -> PriceChange {
        try database.withConnection { connection in
            try connection.transaction {
                let changes = PriceChangeRepository(connection: connection)
                guard let change = try changes.find(id: id) else { throw PriceChangeError.notFound }
                if try changes.withdraw(id: change.id, now: now) {
                    try AuditLogRepository(connection: connection).record(
                        actorID: staffID, action: "plan.price_change_withdrawn", objectType: "plan", objectID: change.planID,
                        before: ["price_change_id": .string(change.id)], after: nil, now: now)
                }
                guard let withdrawn = try changes.find(id: change.id) else { throw PriceChangeError.notFound }
                return withdrawn
            }
        }
    }

    /// A subscriber's answer, stored with the time, their IP and the exact text they were shown, and in the audit log.
    /// They may change their mind until the renewal that applies it.
    func answer(user: User, subscriptionID: String, agree: Bool, ip: String) throws -> Subscription {
        try database.withConnection { connection in
            try connection.transaction {
                let subscriptions = SubscriptionRepository(connection: connection)
                guard let subscription = try subscriptions.find(id: subscriptionID, userID: user.id) else { throw SubscriptionError.subscriptionNotFound }
                guard let pending = subscription.pendingPrice, subscription.status.isOngoing else {
                    throw SubscriptionError.noPendingPrice
                }
                guard pending.consent != .notRequired else { throw SubscriptionError.consentNotRequired }
                let text = PriceChangeNotice.text(planName: subscription.plan.name, pending: pending, zone: services.calendar.timeZone)
                let consent: PriceConsent = agree ? .given : .declined
                guard try PriceChangeRepository(connection: connection).decide(consentID: pending.consentID, consent: consent, ip: ip, textShown: text,
                                                                               now: now)
                else { throw SubscriptionError.noPendingPrice }
                try AuditLogRepository(connection: connection).record(
                    actorID: user.id, action: agree ? "subscription.price_consent_given" : "subscription.price_consent_declined",
                    objectType: "subscription", objectID: subscription.id, before: ["consent": .string(pending.consent.rawValue)],
                    after: ["consent": .string(consent.rawValue), "amount": .int(pending.amount), "previous_amount": .int(pending.oldAmount),
                            "effective_at": .string(RFC3339.format(pending.effectiveAt, in: services.calendar.timeZone)), "ip": .string(ip),
                            "text_shown": .string(text)],
                    now: now)
                guard let saved = try subscriptions.find(id: subscription.id) else { throw SubscriptionError.subscriptionNotFound }
                return saved
            }
        }
    }
}

extension Exchange {
    var priceChanges: PriceChanges { PriceChanges(database: app.database, services: app.services, now: now) }
}
