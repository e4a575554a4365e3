import Foundation
import XCTest
import Billing

final class ProrationTests: XCTestCase {
    private let calendar = BillingCalendar(timeZone: TimeZone(identifier: "Asia/Seoul")!)

    private func kst(_ y: Int, _ m: Int, _ d: Int, _ h: Int = 0, _ mi: Int = 0, _ s: Int = 0) -> Date {
        var parts = DateComponents(year: y, month: m, day: d, hour: h, minute: mi, second: s)
        parts.timeZone = TimeZone(identifier: "Asia/Seoul")
        return Calendar(identifier: .gregorian).date(from: parts)!
    }

    func testTheDifferenceIsTheUnusedShareOfThePeriodInSecondsRoundedOnce() {
        // 2031-01-31 10:00 KST → 2031-02-28 10:00 (clamped): 28 days; 9 days 5 h 7 min 3 s used.
        let period = calendar.period(anchor: kst(2031, 1, 31, 10), cycle: .monthly, index: 0)
        XCTAssertEqual(period.end, kst(2031, 2, 28, 10))
        let at = kst(2031, 2, 9, 15, 7, 3)
        let left = 2_419_200 - 796_023
        let expected = Int((Double(10_000 * left) / 2_419_200).rounded(.toNearestOrAwayFromZero))
        XCTAssertEqual(Proration.difference(oldPrice: 9_900, newPrice: 19_900, period: period, at: at), expected)
        XCTAssertEqual(Proration.difference(oldPrice: 19_900, newPrice: 9_900, period: period, at: at), -expected, "a downgrade is the mirror credit")
    }

    func testEveryCycleOnLeapDaysAndMonthEndsAgreesWithADoubleComputation() {
        var generator = SeededGenerator(seed: 7)
        let anchors = [kst(2032, 2, 29, 8), kst(2031, 1, 31, 23, 59, 59), kst(2030, 12, 31, 0), kst(2031, 3, 30, 12)]
        for anchor in anchors {
            for cycle in [BillingCycle.monthly, .quarterly, .yearly] {
                for index in 0..<3 {
                    let period = calendar.period(anchor: anchor, cycle: cycle, index: index)
                    let length = Int(period.end.timeIntervalSince(period.start))
                    for _ in 0..<50 {
                        let used = Int.random(in: 0...length, using: &generator)
                        let old = Int.random(in: 100...300_000, using: &generator)
                        let new = Int.random(in: 100...300_000, using: &generator)
                        let expected = Int((Double(new - old) * Double(length - used) / Double(length)).rounded(.toNearestOrAwayFromZero))
                        let actual = Proration.difference(oldPrice: old, newPrice: new, period: period, at: period.start.addingTimeInterval(Double(used)))
                        XCTAssertEqual(actual, expected, "anchor \(anchor) \(cycle) period \(index) used \(used)s \(old)→\(new)")
                    }
                }
            }
        }
    }

    func testOutsideThePeriodNothingOrEverythingIsLeft() {
        let period = calendar.period(anchor: kst(2031, 5, 5, 9), cycle: .monthly, index: 0)
        XCTAssertEqual(Proration.difference(oldPrice: 9_900, newPrice: 19_900, period: period, at: period.end.addingTimeInterval(10)), 0)
        XCTAssertEqual(Proration.difference(oldPrice: 9_900, newPrice: 19_900, period: period, at: period.start.addingTimeInterval(-10)), 10_000)
    }

    func testACreditNeverTakesAnInvoiceUnderTheMinimumCharge() {
        XCTAssertEqual(MinimumCharge.usableReduction(3_000, subtotal: 9_900), 3_000)
        XCTAssertEqual(MinimumCharge.usableReduction(20_000, subtotal: 9_900), 9_800)
        XCTAssertEqual(MinimumCharge.usableReduction(500, subtotal: 100), 0)
    }

    func testCouponDiscounts() {
        XCTAssertEqual(CouponDiscount.amount(price: 9_900, percentOff: 10, amountOff: nil), 990)
        XCTAssertEqual(CouponDiscount.amount(price: 19_900, percentOff: 15, amountOff: nil), 2_985)
        XCTAssertEqual(CouponDiscount.amount(price: 9_905, percentOff: 10, amountOff: nil), 991, "half up")
        XCTAssertEqual(CouponDiscount.amount(price: 9_900, percentOff: nil, amountOff: 3_000), 3_000)
        XCTAssertEqual(CouponDiscount.amount(price: 2_000, percentOff: nil, amountOff: 3_000), 2_000)
        XCTAssertEqual(CouponDiscount.amount(price: 9_900, percentOff: nil, amountOff: nil), 0)
    }

    func testReanchoringOnACycleChangeKeepsTheIndicesAndStartsTheNewCycleThere() {
        var state = SubscriptionState(status: .active, anchor: kst(2031, 1, 31, 12), currentPeriodIndex: 0)
        XCTAssertEqual(state.periodStart(1, calendar: calendar, cycle: .monthly), kst(2031, 2, 28, 12))
        state.reanchor(at: 1, start: kst(2031, 2, 28, 12))
        XCTAssertEqual(state.periodStart(1, calendar: calendar, cycle: .yearly), kst(2031, 2, 28, 12))
        XCTAssertEqual(state.periodStart(2, calendar: calendar, cycle: .yearly), kst(2032, 2, 28, 12))
        let next = state.period(2, calendar: calendar, cycle: .yearly)
        XCTAssertEqual(next?.index, 2)
        XCTAssertEqual(next?.end, kst(2033, 2, 28, 12))
        state.currentPeriodIndex = 1
        guard case .charge(let period, _, let due) = renewalDecision(state: state, now: kst(2032, 2, 28, 12), calendar: calendar, cycle: .yearly,
                                                                     dunning: DunningSchedule.standard) else { return XCTFail("not due") }
        XCTAssertEqual(period, 2)
        XCTAssertEqual(due, kst(2032, 2, 28, 12))
    }
}
