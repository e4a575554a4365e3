import Billing
import Foundation
import Web

/// A calendar month in the billing time zone: [start, end).
struct MonthSpan: Equatable, Sendable {
    /// "2025-03"
    let label: String
    let start: Date
    let end: Date

    func contains(_ date: Date) -> Bool { start <= date && date < end }

    /// "3월" (with the year for January, so a 12-month axis reads across the new year).
    var shortLabel: String {
        let month = Int(label.suffix(2)) ?? 0
        return month == 1 ? "\(label.prefix(4))년 1월" : "\(month)월"
    }
}

/// The months the dashboard reports on, computed from "now" in the zone.
struct DashboardWindow: Equatable, Sendable {
    /// Oldest first; the last one is the month containing now.
    let months: [MonthSpan]

    var thisMonth: MonthSpan { months[months.count - 1] }

    init(now: Date, zone: TimeZone, monthCount: Int = 12) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let parts = calendar.dateComponents([.year, .month], from: now)
        let current = parts.year! * 12 + (parts.month! - 1)
        func start(_ monthNumber: Int) -> Date {
            calendar.date(from: DateComponents(year: monthNumber / 12, month: monthNumber % 12 + 1, day: 1))!
        }
        months = (0..<monthCount).reversed().map { back in
            let number = current - back
            return MonthSpan(label: String(format: "%04d-%02d", number / 12, number % 12 + 1), start: start(number), end: start(number + 1))
        }
    }
}

/// Subscriptions of one plan in one status, as counted by the database.
struct RecurringGroup: Equatable, Sendable {
    let planID: String
    let planName: String
    let price: Int
    let cycle: BillingCycle
    let status: SubscriptionStatus
    let count: Int
}

/// A subscription that started or ended recently: enough to tell "new" and "churned".
struct SubscriptionChange: Equatable, Sendable {
    let status: SubscriptionStatus
    /// When the first period was paid; nil for one that never started.
    let startedAt: Date?
    /// `cancelled_at`, or `updated_at` for statuses reached without a cancel (EXPIRED, INACTIVE).
    let endedAt: Date
}

/// Charge attempts of the month by outcome.
struct ChargeTally: Equatable, Sendable {
    let status: PaymentStatus
    let count: Int
}

struct PlanCount: Equatable, Sendable {
    let planID: String
    let planName: String
    let count: Int
}

/// The dashboard's figures, computed from plain values so the definitions are tested without a database.
struct DashboardFigures: Equatable, Sendable {
    let month: MonthSpan
    let mrr: Int
    let activeByPlan: [PlanCount]
    let newThisMonth: Int
    let churnedThisMonth: Int
    let failedCharges: Int
    let chargeAttempts: Int
    let revenueByMonth: [(MonthSpan, Int)]

    /// FAILED ÷ all settled attempts (nil when there were none).
    var failedChargeRate: Double? { chargeAttempts == 0 ? nil : Double(failedCharges) / Double(chargeAttempts) }

    static func == (lhs: DashboardFigures, rhs: DashboardFigures) -> Bool {
        lhs.month == rhs.month && lhs.mrr == rhs.mrr && lhs.activeByPlan == rhs.activeByPlan && lhs.newThisMonth == rhs.newThisMonth
            && lhs.churnedThisMonth == rhs.churnedThisMonth && lhs.failedCharges == rhs.failedCharges && lhs.chargeAttempts == rhs.chargeAttempts
            && lhs.revenueByMonth.map(\.0) == rhs.revenueByMonth.map(\.0) && lhs.revenueByMonth.map(\.1) == rhs.revenueByMonth.map(\.1)
    }

    /// - Parameter revenue: net revenue per month of `window.months`, same order.
    static func compute(window: DashboardWindow, recurring: [RecurringGroup], changes: [SubscriptionChange], charges: [ChargeTally],
                        revenue: [Int]) -> DashboardFigures {
        let month = window.thisMonth
        let failed = charges.filter { $0.status == .failed }.reduce(0) { $0 + $1.count }
        let succeeded = charges.filter { chargeSucceeded($0.status) }.reduce(0) { $0 + $1.count }
        return DashboardFigures(
            month: month, mrr: mrr(recurring), activeByPlan: activeByPlan(recurring),
            newThisMonth: changes.filter { isNew($0, in: month) }.count, churnedThisMonth: changes.filter { isChurned($0, in: month) }.count,
            failedCharges: failed, chargeAttempts: failed + succeeded,
            revenueByMonth: window.months.enumerated().map { ($0.element, $0.offset < revenue.count ? revenue[$0.offset] : 0) })
    }

    /// Σ over ACTIVE and PAST_DUE of the plan price spread over a month (quarterly ÷ 3, yearly ÷ 12), rounded once.
    static func mrr(_ groups: [RecurringGroup]) -> Int {
        let total = groups.filter { $0.status.isOngoing }
            .reduce(0.0) { $0 + monthlyRecurringRevenue(price: $1.price, cycle: $1.cycle) * Double($1.count) }
        return Int(total.rounded(.toNearestOrAwayFromZero))
    }

    /// ACTIVE subscriptions per plan, most first.
    static func activeByPlan(_ groups: [RecurringGroup]) -> [PlanCount] {
        var counts: [String: PlanCount] = [:]
        for group in groups where group.status == .active {
            let previous = counts[group.planID]?.count ?? 0
            counts[group.planID] = PlanCount(planID: group.planID, planName: group.planName, count: previous + group.count)
        }
        return counts.values.sorted { ($0.count, $1.planName) > ($1.count, $0.planName) }
    }

    /// Started (first period paid) within the month.
    static func isNew(_ change: SubscriptionChange, in month: MonthSpan) -> Bool {
        change.startedAt.map(month.contains) ?? false
    }

    /// Ended (CANCELLED, EXPIRED or INACTIVE) within the month, having once started: an abandoned checkout is not churn.
    static func isChurned(_ change: SubscriptionChange, in month: MonthSpan) -> Bool {
        [.cancelled, .expired, .inactive].contains(change.status) && change.startedAt != nil && month.contains(change.endedAt)
    }

    /// A charge that went through; refunding it later does not make it a failed charge.
    static func chargeSucceeded(_ status: PaymentStatus) -> Bool {
        status == .completed || status == .partialCancelled || status == .cancelled
    }

    func json(zone: TimeZone) -> JSON {
        ["month": .string(month.label), "mrr": .int(mrr),
         "active_by_plan": .array(activeByPlan.map { ["plan_id": .string($0.planID), "plan_name": .string($0.planName), "count": .int($0.count)] }),
         "active_total": .int(activeByPlan.reduce(0) { $0 + $1.count }),
         "new_this_month": .int(newThisMonth), "churned_this_month": .int(churnedThisMonth),
         "failed_charges_this_month": .int(failedCharges), "charge_attempts_this_month": .int(chargeAttempts),
         "failed_charge_rate": failedChargeRate.map { .double(($0 * 10_000).rounded() / 10_000) } ?? .null,
         "revenue_by_month": .array(revenueByMonth.map { ["month": .string($0.0.label), "amount": .int($0.1)] })]
    }
}
