import Billing
import Foundation
import Storage

/// Loads the dashboard's plain values; the database only groups and sums, `DashboardFigures` holds the definitions.
struct DashboardRepository {
    let connection: DatabaseConnection

    func figures(window: DashboardWindow) throws -> DashboardFigures {
        DashboardFigures.compute(window: window, recurring: try recurring(), changes: try changes(in: window.thisMonth),
                                 charges: try charges(in: window.thisMonth), revenue: try revenue(window.months))
    }

    /// ACTIVE and PAST_DUE subscriptions grouped by plan and the price they pay (index subscriptions_due leads with status).
    func recurring() throws -> [RecurringGroup] {
        try connection.query(
            """
            SELECT p.id AS plan_id, p.name AS plan_name, COALESCE(s.price, p.price) AS price, p.billing_cycle AS billing_cycle, s.status AS status,
            COUNT(*) AS n
            FROM subscriptions s JOIN plans p ON p.id = s.plan_id WHERE s.status IN ('ACTIVE', 'PAST_DUE')
            GROUP BY p.id, p.name, COALESCE(s.price, p.price), p.billing_cycle, s.status
            """, []).map { row in
            RecurringGroup(planID: row.string("plan_id"), planName: row.string("plan_name"), price: row.int("price"),
                           cycle: try row.word("billing_cycle"), status: try row.word("status"), count: row.int("n"))
        }
    }

    /// Subscriptions that started in the month, and ended ones touched since it began (a superset of those that ended in it:
    /// `cancelled_at` is never later than `updated_at`).
    func changes(in month: MonthSpan) throws -> [SubscriptionChange] {
        let columns = "SELECT s.id, s.status, s.start_date, s.cancelled_at, s.updated_at FROM subscriptions s"
        let started = try connection.query(columns + " WHERE s.start_date >= ? AND s.start_date < ?",
                                           [.int(month.start.unixSeconds), .int(month.end.unixSeconds)])
        let ended = try connection.query(columns + " WHERE s.status IN ('CANCELLED', 'EXPIRED', 'INACTIVE') AND s.updated_at >= ?",
                                         [.int(month.start.unixSeconds)])
        var seen = Set<String>()
        return try (started + ended).compactMap { row in
            guard seen.insert(row.string("id")).inserted else { return nil }
            return SubscriptionChange(status: try row.word("status"),
                                      startedAt: row.optionalInt("start_date").map(Date.init(unixSeconds:)),
                                      endedAt: Date(unixSeconds: row.optionalInt("cancelled_at") ?? row.int("updated_at")))
        }
    }

    /// Charge attempts made in the month, by outcome (index payments_status).
    func charges(in month: MonthSpan) throws -> [ChargeTally] {
        try connection.query(
            """
            SELECT status, COUNT(*) AS n FROM payments
            WHERE status IN ('COMPLETED', 'FAILED', 'PARTIAL_CANCELLED', 'CANCELLED') AND created_at >= ? AND created_at < ? GROUP BY status
            """, [.int(month.start.unixSeconds), .int(month.end.unixSeconds)]).map { row in
            ChargeTally(status: try row.word("status"), count: row.int("n"))
        }
    }

    /// Net revenue (amount − refunded) of paid charges per month, by `paid_at` in the zone: one range scan, one sum per month.
    func revenue(_ months: [MonthSpan]) throws -> [Int] {
        guard let first = months.first, let last = months.last else { return [] }
        let sums = months.indices.map { "COALESCE(SUM(CASE WHEN paid_at >= ? AND paid_at < ? THEN amount - refunded_amount ELSE 0 END), 0) AS m\($0)" }
        var parameters: [SQLValue] = months.flatMap { [SQLValue.int($0.start.unixSeconds), .int($0.end.unixSeconds)] }
        parameters += [.int(first.start.unixSeconds), .int(last.end.unixSeconds)]
        let sql = "SELECT " + sums.joined(separator: ", ")
            + " FROM payments WHERE paid_at >= ? AND paid_at < ? AND status IN ('COMPLETED', 'PARTIAL_CANCELLED')"
        guard let row = try connection.queryOne(sql, parameters) else { return months.map { _ in 0 } }
        return months.indices.map { row.int("m\($0)") }
    }
}
