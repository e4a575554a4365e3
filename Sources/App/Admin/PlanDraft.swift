import Billing
import Foundation
import Web

/// Plan fields from the staff API or the plan form; each is optional so an edit can change some of them.
struct PlanDraft: Sendable {
    var name: String?
    var planType: String?
    var price: Int?
    var billingCycle: String?
    var features: [String]?
    var isActive: Bool?

    static let priceRange = 100...100_000_000
    static let maxFeatures = 20

    /// A new plan: name, type, price and cycle are required; features default to none, a new plan is active unless told otherwise.
    func complete() throws(AdminError) -> Plan {
        guard let name else { throw AdminError.invalidField(name: "name", message: "요금제 이름을 입력하세요.") }
        guard let planType else { throw AdminError.invalidField(name: "plan_type", message: "요금제 종류(plan_type)를 고르세요.") }
        guard let price else { throw AdminError.invalidField(name: "price", message: "가격(price)을 입력하세요.") }
        guard let billingCycle else { throw AdminError.invalidField(name: "billing_cycle", message: "결제 주기(billing_cycle)를 고르세요.") }
        return try applied(to: Plan(id: "", name: name, planType: planType, price: price, billingCycle: billingCycle, features: features ?? [],
                                    isActive: isActive ?? true))
    }

    /// `plan` with the draft's fields applied, validated.
    func applied(to plan: Plan) throws(AdminError) -> Plan {
        var plan = plan
        if let name {
            let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
            guard (1...100).contains(trimmed.count) else { throw AdminError.invalidField(name: "name", message: "요금제 이름은 1~100자여야 합니다.") }
            plan.name = trimmed
        }
        if let planType {
            guard PlanType(rawValue: planType) != nil else {
                throw AdminError.invalidField(name: "plan_type", message: "plan_type은 BASIC, PREMIUM, ENTERPRISE 중 하나여야 합니다.")
            }
            plan.planType = planType
        }
        if let price {
            guard Self.priceRange.contains(price) else {
                throw AdminError.invalidField(name: "price", message: "가격은 \(Won.format(Self.priceRange.lowerBound)) ~ \(Won.format(Self.priceRange.upperBound)) 사이여야 합니다.")
            }
            plan.price = price
        }
        if let billingCycle {
            guard BillingCycle(rawValue: billingCycle) != nil else {
                throw AdminError.invalidField(name: "billing_cycle", message: "billing_cycle은 MONTHLY, QUARTERLY, YEARLY 중 하나여야 합니다.")
            }
            plan.billingCycle = billingCycle
        }
        if let features {
            let cleaned = features.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
            guard cleaned.count <= Self.maxFeatures, cleaned.allSatisfy({ $0.count <= 100 }) else {
                throw AdminError.invalidField(name: "features", message: "기능은 \(Self.maxFeatures)개까지, 각각 100자 이하로 입력하세요.")
            }
            plan.features = cleaned
        }
        if let isActive { plan.isActive = isActive }
        return plan
    }

    /// From a JSON body: `{name?, plan_type?, price?, billing_cycle?, features?: [string], is_active?}`.
    init(json body: JSONBody) throws(HTTPError) {
        name = try body.optionalString("name")
        planType = try body.optionalString("plan_type")
        billingCycle = try body.optionalString("billing_cycle")
        isActive = try body.optionalBool("is_active")
        price = try body.optionalInt("price")
        if let value = body.object["features"], !value.isNull {
            guard let items = value.arrayValue, items.count <= 100 else {
                throw HTTPError.badRequest("'features'은(는) 문자열 배열이어야 합니다.", code: "INVALID_FIELD")
            }
            var strings: [String] = []
            for item in items {
                guard let text = item.stringValue else { throw HTTPError.badRequest("'features'은(는) 문자열 배열이어야 합니다.", code: "INVALID_FIELD") }
                strings.append(text)
            }
            features = strings
        }
        if let currency = try body.optionalString("currency"), currency != "KRW" {
            throw HTTPError.badRequest("통화는 KRW만 지원합니다.", code: "INVALID_FIELD")
        }
    }

    /// From the plan form: features one per line, `is_active` a checkbox; a blank or absent field (a disabled select) is left as it is.
    init(form: QueryParameters) throws(AdminError) {
        func field(_ name: String) -> String? {
            guard let value = form[name]?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
            return value
        }
        name = field("name")
        planType = field("plan_type")
        billingCycle = field("billing_cycle")
        if let priceText = field("price")?.replacingOccurrences(of: ",", with: "") {
            guard priceText.utf8.count <= 12, let price = Int(priceText) else {
                throw AdminError.invalidField(name: "price", message: "가격은 숫자로 입력하세요.")
            }
            self.price = price
        }
        features = (form["features"] ?? "").split(whereSeparator: \.isNewline).map(String.init)
        isActive = form["is_active"] != nil
    }

    init() {}
}
