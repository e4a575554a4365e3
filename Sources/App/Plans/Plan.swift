import Billing
import Foundation
import Storage
import Web

public struct Plan: Sendable, Equatable {
    public var id: String
    public var name: String
    public var planType: String
    public var price: Int
    public var currency: String
    public var billingCycle: String
    public var features: [String]
    public var isActive: Bool

    init(row: Row) throws { try self.init(row: row, prefix: "", id: row.string("id")) }

    /// A plan selected alongside another table, its columns named `prefix` + column (`plan_name`, …).
    init(row: Row, prefix: String, id: String) throws {
        self.id = id
        name = row.string(prefix + "name")
        planType = row.string(prefix + "plan_type")
        price = row.int(prefix + "price")
        currency = row.string(prefix + "currency")
        billingCycle = (try row.word(prefix + "billing_cycle", as: BillingCycle.self)).rawValue
        let parsed = try? JSON.parse(row.string(prefix + "features"))
        features = parsed?.arrayValue?.compactMap(\.stringValue) ?? []
        isActive = row.bool(prefix + "is_active")
    }

    public init(id: String, name: String, planType: String, price: Int, currency: String = "KRW", billingCycle: String,
                features: [String], isActive: Bool = true) {
        self.id = id
        self.name = name
        self.planType = planType
        self.price = price
        self.currency = currency
        self.billingCycle = billingCycle
        self.features = features
        self.isActive = isActive
    }

    public var json: JSON {
        ["id": .string(id), "name": .string(name), "plan_type": .string(planType), "price": .int(price), "currency": .string(currency),
         "billing_cycle": .string(billingCycle), "features": .array(features.map { .string($0) }), "is_active": .bool(isActive)]
    }

    var cycle: BillingCycle { BillingCycle(rawValue: billingCycle) ?? .monthly }

    /// "9,900원 / 월"
    public var pricePhrase: String { cycle.pricePhrase(price) }
}

enum CycleNames {
    static func label(_ cycle: String) -> String {
        switch cycle {
        case "MONTHLY": "월간"
        case "QUARTERLY": "분기"
        case "YEARLY": "연간"
        default: cycle
        }
    }
}

