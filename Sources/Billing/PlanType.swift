/// The tier of a plan. Raw values are the API's and the database's.
public enum PlanType: String, Sendable, CaseIterable {
    case basic = "BASIC"
    case premium = "PREMIUM"
    case enterprise = "ENTERPRISE"
}
