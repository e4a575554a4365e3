import Billing
import Foundation
import XCTest

@testable import App

/// Seoul wall-clock instants for the back-office tests.
enum AdminFixtures {
    static let seoul = TimeZone(identifier: "Asia/Seoul")!

    static func at(_ year: Int, _ month: Int, _ day: Int, _ hour: Int = 0, _ minute: Int = 0, _ second: Int = 0) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = seoul
        return calendar.date(from: DateComponents(year: year, month: month, day: day, hour: hour, minute: minute, second: second))!
    }
}

final class DashboardFiguresTests: XCTestCase {
    private let march = DashboardWindow(now: AdminFixtures.at(2025, 3, 15, 12), zone: AdminFixtures.seoul).thisMonth

    private func group(_ plan: String, _ price: Int, _ cycle: BillingCycle, _ status: SubscriptionStatus, _ count: Int) -> RecurringGroup {
        RecurringGroup(planID: plan, planName: plan, price: price, cycle: cycle, status: status, count: count)
    }

    func testMRRSpreadsQuarterlyAndYearlyPricesOverMonthsAndRoundsOnce() {
        let groups = [
            group("basic", 9_900, .monthly, .active, 3),          // 29,700
            group("premium", 19_900, .monthly, .pastDue, 1),      // 19,900
            group("enterprise", 199_000, .yearly, .active, 1),    // 16,583.33…
            group("quarter", 10_000, .quarterly, .active, 1),     // 3,333.33…
            group("basic", 9_900, .monthly, .cancelled, 7),       // not recurring
            group("premium", 19_900, .monthly, .pending, 2),      // not recurring
        ]
        // Rounded once: 69,516.67 → 69,517 (rounding each term first would give 69,516).
        XCTAssertEqual(DashboardFigures.mrr(groups), 69_517)
        XCTAssertEqual(DashboardFigures.mrr([]), 0)
    }

    func testActiveByPlanCountsOnlyActiveSubscriptionsMostFirst() {
        let groups = [group("basic", 9_900, .monthly, .active, 2), group("premium", 19_900, .monthly, .active, 5),
                      group("premium", 19_900, .monthly, .pastDue, 4), group("enterprise", 199_000, .yearly, .expired, 9),
                      group("alpha", 1_000, .monthly, .active, 2)]
        XCTAssertEqual(DashboardFigures.activeByPlan(groups).map { "\($0.planName)=\($0.count)" }, ["premium=5", "alpha=2", "basic=2"])
    }

    func testNewMeansFirstPeriodPaidWithinTheMonthInSeoul() {
        let changes = [
            SubscriptionChange(status: .active, startedAt: AdminFixtures.at(2025, 3, 1, 0, 0, 0), endedAt: AdminFixtures.at(2025, 3, 1)),
            SubscriptionChange(status: .active, startedAt: AdminFixtures.at(2025, 3, 31, 23, 59, 59), endedAt: AdminFixtures.at(2025, 3, 31)),
            SubscriptionChange(status: .cancelled, startedAt: AdminFixtures.at(2025, 3, 10), endedAt: AdminFixtures.at(2025, 3, 12)),
            SubscriptionChange(status: .active, startedAt: AdminFixtures.at(2025, 2, 28, 23, 59, 59), endedAt: AdminFixtures.at(2025, 3, 2)),
            SubscriptionChange(status: .active, startedAt: AdminFixtures.at(2025, 4, 1), endedAt: AdminFixtures.at(2025, 4, 1)),
            SubscriptionChange(status: .pending, startedAt: nil, endedAt: AdminFixtures.at(2025, 3, 5)),
        ]
        XCTAssertEqual(changes.map { DashboardFigures.isNew($0, in: march) }, [true, true, true, false, false, false])
    }

    func testChurnIsAnEndedSubscriptionThatHadStartedEndingWithinTheMonth() {
        let january = AdminFixtures.at(2025, 1, 5)
        let changes = [
            SubscriptionChange(status: .cancelled, startedAt: january, endedAt: AdminFixtures.at(2025, 3, 1, 0, 0, 0)),
            SubscriptionChange(status: .expired, startedAt: january, endedAt: AdminFixtures.at(2025, 3, 20)),
            SubscriptionChange(status: .inactive, startedAt: january, endedAt: AdminFixtures.at(2025, 3, 31, 23, 59, 59)),
            SubscriptionChange(status: .cancelled, startedAt: nil, endedAt: AdminFixtures.at(2025, 3, 3)),         // abandoned checkout
            SubscriptionChange(status: .cancelled, startedAt: january, endedAt: AdminFixtures.at(2025, 2, 28, 23, 59, 59)),
            SubscriptionChange(status: .expired, startedAt: january, endedAt: AdminFixtures.at(2025, 4, 1)),
            SubscriptionChange(status: .active, startedAt: january, endedAt: AdminFixtures.at(2025, 3, 10)),
            SubscriptionChange(status: .pastDue, startedAt: january, endedAt: AdminFixtures.at(2025, 3, 10)),
        ]
        XCTAssertEqual(changes.map { DashboardFigures.isChurned($0, in: march) }, [true, true, true, false, false, false, false, false])
    }

    func testFailedChargeRateIsFailedOverSettledAttemptsAndRefundedChargesCountAsSucceeded() {
        let window = DashboardWindow(now: AdminFixtures.at(2025, 3, 15), zone: AdminFixtures.seoul)
        let figures = DashboardFigures.compute(window: window, recurring: [], changes: [],
                                               charges: [ChargeTally(status: .failed, count: 3), ChargeTally(status: .completed, count: 5),
                                                         ChargeTally(status: .partialCancelled, count: 1), ChargeTally(status: .cancelled, count: 1),
                                                         ChargeTally(status: .pending, count: 4)],
                                               revenue: [])
        XCTAssertEqual(figures.failedCharges, 3)
        XCTAssertEqual(figures.chargeAttempts, 10)
        XCTAssertEqual(figures.failedChargeRate, 0.3)
        let none = DashboardFigures.compute(window: window, recurring: [], changes: [], charges: [], revenue: [])
        XCTAssertNil(none.failedChargeRate)
        XCTAssertEqual(none.json(zone: AdminFixtures.seoul)["failed_charge_rate"], .null)
    }

    func testWindowIsTwelveCalendarMonthsInSeoulEndingWithTheCurrentOne() {
        // 2025-03-31 20:00 UTC is already April 1st in Seoul.
        let window = DashboardWindow(now: Date(timeIntervalSince1970: 1_743_451_200), zone: AdminFixtures.seoul)
        XCTAssertEqual(window.months.map(\.label), ["2024-05", "2024-06", "2024-07", "2024-08", "2024-09", "2024-10", "2024-11", "2024-12",
                                                    "2025-01", "2025-02", "2025-03", "2025-04"])
        XCTAssertEqual(window.thisMonth.start, AdminFixtures.at(2025, 4, 1))
        XCTAssertEqual(window.thisMonth.end, AdminFixtures.at(2025, 5, 1))
        XCTAssertEqual(window.months[9].start, AdminFixtures.at(2025, 2, 1))
        XCTAssertEqual(window.months[9].end, AdminFixtures.at(2025, 3, 1))
        for (earlier, later) in zip(window.months, window.months.dropFirst()) { XCTAssertEqual(earlier.end, later.start) }
        XCTAssertEqual(window.months[8].shortLabel, "2025년 1월")
        XCTAssertEqual(window.months[10].shortLabel, "3월")
    }

    func testComputeAssemblesEveryFigureAndTheJSONShape() {
        let window = DashboardWindow(now: AdminFixtures.at(2025, 3, 15), zone: AdminFixtures.seoul)
        let figures = DashboardFigures.compute(
            window: window, recurring: [group("basic", 9_900, .monthly, .active, 2)],
            changes: [SubscriptionChange(status: .active, startedAt: AdminFixtures.at(2025, 3, 2), endedAt: AdminFixtures.at(2025, 3, 2)),
                      SubscriptionChange(status: .cancelled, startedAt: AdminFixtures.at(2025, 1, 2), endedAt: AdminFixtures.at(2025, 3, 9))],
            charges: [ChargeTally(status: .completed, count: 3), ChargeTally(status: .failed, count: 1)],
            revenue: Array(repeating: 0, count: 11) + [29_700])
        let json = figures.json(zone: AdminFixtures.seoul)
        XCTAssertEqual(json["month"], "2025-03")
        XCTAssertEqual(json["mrr"], 19_800)
        XCTAssertEqual(json["new_this_month"], 1)
        XCTAssertEqual(json["churned_this_month"], 1)
        XCTAssertEqual(json["failed_charge_rate"], .double(0.25))
        XCTAssertEqual(json["active_by_plan"], [["plan_id": "basic", "plan_name": "basic", "count": 2]])
        XCTAssertEqual(json["revenue_by_month"]?.arrayValue?.count, 12)
        XCTAssertEqual(json["revenue_by_month"]?.arrayValue?.last, ["month": "2025-03", "amount": 29_700])
        XCTAssertEqual(json["revenue_by_month"]?.arrayValue?.first, ["month": "2024-04", "amount": 0])
    }
}
