import Foundation
import Storage
import Web

struct PlanRepository {
    let connection: DatabaseConnection

    func active() throws -> [Plan] {
        try connection.query("SELECT * FROM plans WHERE is_active = 1 ORDER BY sort_order, price, name", []).map(Plan.init(row:))
    }

    func all() throws -> [Plan] {
        try connection.query("SELECT * FROM plans ORDER BY sort_order, price, name", []).map(Plan.init(row:))
    }

    func find(id: String) throws -> Plan? {
        guard let canonical = Identifier.canonical(id) else { return nil }
        return try connection.queryOne("SELECT * FROM plans WHERE id = ?", [.text(canonical)]).map(Plan.init(row:))
    }

    func insert(_ plan: Plan, sortOrder: Int, now: Date) throws {
        try connection.execute(
            """
            INSERT INTO plans (id, name, plan_type, price, currency, billing_cycle, features, is_active, sort_order, created_at, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [.text(plan.id), .text(plan.name), .text(plan.planType), .int(Int64(plan.price)), .text(plan.currency), .text(plan.billingCycle),
             .text(JSON.array(plan.features.map { .string($0) }).serializedString()), .bool(plan.isActive), .int(Int64(sortOrder)),
             .int(now.unixSeconds), .int(now.unixSeconds)])
    }

    func update(_ plan: Plan, now: Date) throws {
        try connection.execute(
            "UPDATE plans SET name = ?, plan_type = ?, price = ?, billing_cycle = ?, features = ?, is_active = ?, updated_at = ? WHERE id = ?",
            [.text(plan.name), .text(plan.planType), .int(Int64(plan.price)), .text(plan.billingCycle),
             .text(JSON.array(plan.features.map { .string($0) }).serializedString()), .bool(plan.isActive), .int(now.unixSeconds),
             .text(plan.id)])
    }

    func count() throws -> Int { try connection.queryOne("SELECT COUNT(*) AS n FROM plans", [])?.int("n") ?? 0 }

    /// Where a new plan goes in the list: after every other.
    func nextSortOrder() throws -> Int {
        try connection.queryOne("SELECT COALESCE(MAX(sort_order), -1) + 1 AS n FROM plans", [])?.int("n") ?? 0
    }

    func delete(id: String) throws {
        try connection.execute("DELETE FROM plans WHERE id = ?", [.text(id)])
    }

    /// How many subscriptions ever used the plan. On PostgreSQL the plan row stays locked until the transaction ends, so a
    /// subscription cannot start on it between this count and what the caller does with it.
    func usageLockingPlan(id: String) throws -> Int {
        if connection.dialect == .postgres {
            try connection.execute("SELECT id FROM plans WHERE id = ? FOR UPDATE", [.text(id)])
        }
        return try connection.queryOne("SELECT COUNT(*) AS n FROM subscriptions WHERE plan_id = ?", [.text(id)])?.int("n") ?? 0
    }
}

/// The demo catalogue `gudok seed` inserts into an empty plan table (docs/operations.md#commands).
public enum DemoPlans {
    static let catalogue: [(String, String, Int, String, [String])] = [
        ("베이직", "BASIC", 9_900, "MONTHLY", ["프로젝트 3개", "팀원 5명", "이메일 지원"]),
        ("프리미엄", "PREMIUM", 19_900, "MONTHLY", ["프로젝트 무제한", "팀원 20명", "우선 지원", "고급 분석"]),
        ("엔터프라이즈", "ENTERPRISE", 199_000, "YEARLY", ["모든 프리미엄 기능", "팀원 무제한", "전담 매니저", "SLA 99.9%"]),
    ]

    /// Inserts the demo plans when there are none; answers how many were inserted.
    public static func seed(database: Database, now: Date) throws -> Int {
        try database.withConnection { connection in
            try connection.transaction {
                let plans = PlanRepository(connection: connection)
                guard try plans.count() == 0 else { return 0 }
                for (index, entry) in catalogue.enumerated() {
                    let plan = Plan(id: Identifier.make(), name: entry.0, planType: entry.1, price: entry.2, billingCycle: entry.3, features: entry.4)
                    try plans.insert(plan, sortOrder: index, now: now)
                }
                return catalogue.count
            }
        }
    }
}
