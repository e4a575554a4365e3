import Billing
import Foundation
import Storage
import Web

/// A discount code made in the back office: percent or fixed won, for one period, N periods or every period.
struct Coupon: Sendable {
    enum Duration: String, Sendable {
        case once = "ONCE"
        case repeating = "REPEATING"
        case forever = "FOREVER"

        /// How many period invoices a coupon of this duration discounts; nil for every one.
        func periods(repeating: Int?) -> Int? {
            switch self {
            case .once: 1
            case .repeating: repeating
            case .forever: nil
            }
        }
    }

    var id: String
    var code: String
    var name: String
    var percentOff: Int?
    var amountOff: Int?
    var duration: Duration
    var durationPeriods: Int?
    var maxRedemptions: Int?
    var redeemed: Int
    var expiresAt: Date?
    /// The plans it may be used with; empty means any.
    var planIDs: [String]
    var isActive: Bool
    var createdAt: Date

    init(row: Row) throws {
        id = row.string("id")
        code = row.string("code")
        name = row.string("name")
        percentOff = row.optionalInt("percent_off")
        amountOff = row.optionalInt("amount_off")
        duration = try row.word("duration")
        durationPeriods = row.optionalInt("duration_periods")
        maxRedemptions = row.optionalInt("max_redemptions")
        redeemed = row.int("redeemed")
        expiresAt = row.optionalInt("expires_at").map(Date.init(unixSeconds:))
        planIDs = ((try? JSON.parse(row.string("plan_ids")))?.arrayValue ?? []).compactMap(\.stringValue)
        isActive = row.bool("is_active")
        createdAt = Date(unixSeconds: row.int("created_at"))
    }

    /// "10% 할인" or "5,000원 할인".
    var summary: String { Coupon.summary(percentOff: percentOff, amountOff: amountOff) }

    static func summary(percentOff: Int?, amountOff: Int?) -> String {
        percentOff.map { "\($0)% 할인" } ?? "\(Won.format(amountOff ?? 0)) 할인"
    }

    func json(zone: TimeZone) -> JSON {
        ["id": .string(id), "code": .string(code), "name": .string(name), "percent_off": .optional(percentOff), "amount_off": .optional(amountOff),
         "duration": .string(duration.rawValue), "duration_periods": .optional(durationPeriods), "max_redemptions": .optional(maxRedemptions),
         "redeemed": .int(redeemed), "expires_at": expiresAt.map { .string(RFC3339.format($0, in: zone)) } ?? .null,
         "plan_ids": .array(planIDs.map { .string($0) }), "is_active": .bool(isActive), "created_at": .string(RFC3339.format(createdAt, in: zone))]
    }
}

/// The coupon a subscription carries, as its invoices need it.
struct AppliedCoupon: Sendable {
    var id: String
    var code: String
    var percentOff: Int?
    var amountOff: Int?
    /// How many period invoices it discounts in all (nil: every one), and how many non-void ones it already did.
    var periods: Int?
    var periodsUsed: Int

    var appliesToNextInvoice: Bool { periods.map { periodsUsed < $0 } ?? true }

    var json: JSON {
        ["code": .string(code), "percent_off": .optional(percentOff), "amount_off": .optional(amountOff),
         "periods_left": periods.map { .int(max(0, $0 - periodsUsed)) } ?? .null]
    }
}

enum CouponError: Error, HTTPErrorConvertible {
    case invalid
    case expired
    case exhausted
    case notApplicable
    case alreadyApplied
    case invalidDefinition(String)
    case codeTaken
    case notFound

    var httpError: HTTPError {
        switch self {
        case .invalid: HTTPError(400, code: "COUPON_INVALID", message: "사용할 수 없는 쿠폰 코드입니다.")
        case .expired: HTTPError(400, code: "COUPON_EXPIRED", message: "기간이 지난 쿠폰입니다.")
        case .exhausted: HTTPError(400, code: "COUPON_EXHAUSTED", message: "사용 가능 횟수를 모두 쓴 쿠폰입니다.")
        case .notApplicable: HTTPError(400, code: "COUPON_NOT_APPLICABLE", message: "이 요금제에는 쓸 수 없는 쿠폰입니다.")
        case .alreadyApplied: HTTPError(409, code: "COUPON_ALREADY_APPLIED", message: "이 구독에는 이미 쿠폰이 적용되어 있습니다.")
        case .invalidDefinition(let message): HTTPError(400, code: "VALIDATION_ERROR", message: message)
        case .codeTaken: HTTPError(409, code: "COUPON_CODE_TAKEN", message: "이미 있는 쿠폰 코드입니다.")
        case .notFound: HTTPError(404, code: "COUPON_NOT_FOUND", message: "쿠폰을 찾을 수 없습니다.")
        }
    }
}

/// The only writer of `coupons` and `coupon_redemptions`.
struct CouponRepository {
    let connection: DatabaseConnection

    func all() throws -> [Coupon] {
        try connection.query("SELECT * FROM coupons ORDER BY created_at DESC, code", []).map(Coupon.init(row:))
    }

    func find(code: String) throws -> Coupon? {
        try connection.queryOne("SELECT * FROM coupons WHERE code = ?", [.text(CouponRepository.normalized(code))]).map(Coupon.init(row:))
    }

    func find(id: String) throws -> Coupon? {
        guard let canonical = Identifier.canonical(id) else { return nil }
        return try connection.queryOne("SELECT * FROM coupons WHERE id = ?", [.text(canonical)]).map(Coupon.init(row:))
    }

    /// Codes are compared without case or surrounding spaces.
    static func normalized(_ code: String) -> String { code.trimmingCharacters(in: .whitespacesAndNewlines).uppercased() }

    func insert(_ draft: CouponDraft, createdBy: String?, now: Date) throws -> String {
        let id = Identifier.make()
        try connection.execute(
            """
            INSERT INTO coupons (id, code, name, percent_off, amount_off, duration, duration_periods, max_redemptions, expires_at, plan_ids,
            created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [.text(id), .text(draft.code), .text(draft.name), .optional(draft.percentOff), .optional(draft.amountOff), .text(draft.duration.rawValue),
             .optional(draft.durationPeriods), .optional(draft.maxRedemptions), .optional(draft.expiresAt.map { Int($0.unixSeconds) }),
             .text(JSON.array(draft.planIDs.map { .string($0) }).serializedString()), .optional(createdBy), .int(now.unixSeconds), .int(now.unixSeconds)])
        return id
    }

    func setActive(id: String, _ active: Bool, now: Date) throws {
        try connection.execute("UPDATE coupons SET is_active = ?, updated_at = ? WHERE id = ?", [.bool(active), .int(now.unixSeconds), .text(id)])
    }

    /// Takes one redemption if any is left; false when the limit is reached (concurrent redeemers each get a distinct one).
    func takeRedemption(id: String, now: Date) throws -> Bool {
        try connection.execute(
            "UPDATE coupons SET redeemed = redeemed + 1, updated_at = ? WHERE id = ? AND (max_redemptions IS NULL OR redeemed < max_redemptions)",
            [.int(now.unixSeconds), .text(id)]) == 1
    }

    func recordRedemption(couponID: String, subscriptionID: String, userID: String, appliedBy: String?, now: Date) throws {
        try connection.execute(
            "INSERT INTO coupon_redemptions (id, coupon_id, subscription_id, user_id, applied_by, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            [.text(Identifier.make()), .text(couponID), .text(subscriptionID), .text(userID), .optional(appliedBy), .int(now.unixSeconds)])
    }
}

/// A new coupon as staff typed it, checked.
struct CouponDraft {
    var code: String
    var name: String
    var percentOff: Int?
    var amountOff: Int?
    var duration: Coupon.Duration
    var durationPeriods: Int?
    var maxRedemptions: Int?
    var expiresAt: Date?
    var planIDs: [String]

    init(code: String, name: String, percentOff: Int?, amountOff: Int?, duration: String, durationPeriods: Int?, maxRedemptions: Int?,
         expiresAt: Date?, planIDs: [String]) throws {
        self.code = CouponRepository.normalized(code)
        guard (3...40).contains(self.code.count), self.code.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 65 && $0 <= 90) || $0 == 45 || $0 == 95 }) else {
            throw CouponError.invalidDefinition("쿠폰 코드는 영문 대문자, 숫자, -, _ 로 3~40자여야 합니다.")
        }
        self.name = String(name.prefix(100))
        switch (percentOff, amountOff) {
        case (let percent?, nil) where (1...100).contains(percent): break
        case (nil, let amount?) where (1...100_000_000).contains(amount): break
        default: throw CouponError.invalidDefinition("percent_off(1~100) 또는 amount_off(1원 이상) 중 하나만 정하세요.")
        }
        self.percentOff = percentOff
        self.amountOff = amountOff
        guard let kind = Coupon.Duration(rawValue: duration) else { throw CouponError.invalidDefinition("duration은 ONCE, REPEATING, FOREVER 중 하나입니다.") }
        self.duration = kind
        if kind == .repeating {
            guard let periods = durationPeriods, (1...120).contains(periods) else {
                throw CouponError.invalidDefinition("REPEATING 쿠폰은 duration_periods(1~120)가 필요합니다.")
            }
        }
        self.durationPeriods = kind == .repeating ? durationPeriods : nil
        if let maxRedemptions, maxRedemptions < 1 { throw CouponError.invalidDefinition("max_redemptions는 1 이상이어야 합니다.") }
        self.maxRedemptions = maxRedemptions
        self.expiresAt = expiresAt
        self.planIDs = planIDs
    }
}
