import XCTest
import Billing

final class WonTests: XCTestCase {
    func testWonGroupsThousandsWithCommasAndAppendsTheUnit() {
        let cases = [(0, "0원"), (100, "100원"), (999, "999원"), (1_000, "1,000원"), (9_900, "9,900원"),
                     (199_000, "199,000원"), (1_234_567, "1,234,567원"), (-9_900, "-9,900원")]
        for (amount, want) in cases {
            XCTAssertEqual(Won.format(amount), want, "Won.format(\(amount))")
        }
        XCTAssertEqual(Won.formatNumber(1_234_567), "1,234,567")
        XCTAssertEqual(Won.formatNumber(Int.min), "-9,223,372,036,854,775,808")
    }

    func testPricePhraseNamesTheCycleUnit() {
        XCTAssertEqual(BillingCycle.monthly.pricePhrase(9_900), "9,900원 / 월")
        XCTAssertEqual(BillingCycle.quarterly.pricePhrase(27_000), "27,000원 / 분기")
        XCTAssertEqual(BillingCycle.yearly.pricePhrase(99_000), "99,000원 / 년")
    }

    func testMonthlyRecurringRevenueSpreadsLongerCyclesOverTheirMonths() {
        XCTAssertEqual(monthlyRecurringRevenue(price: 9_900, cycle: .monthly), 9_900)
        XCTAssertEqual(monthlyRecurringRevenue(price: 27_000, cycle: .quarterly), 9_000)
        XCTAssertEqual(monthlyRecurringRevenue(price: 100_000, cycle: .yearly), 100_000.0 / 12, accuracy: 1e-9)
    }

    func testEnumsKeepTheAPIRawValuesAndKoreanLabels() {
        XCTAssertEqual(BillingCycle.allCases.map(\.rawValue), ["MONTHLY", "QUARTERLY", "YEARLY"])
        XCTAssertEqual(BillingCycle.allCases.map(\.months), [1, 3, 12])
        XCTAssertEqual(PlanType.allCases.map(\.rawValue), ["BASIC", "PREMIUM", "ENTERPRISE"])
        XCTAssertEqual(SubscriptionStatus.allCases.map(\.rawValue),
                       ["PENDING", "ACTIVE", "PAST_DUE", "CANCELLED", "EXPIRED", "INACTIVE"])
        XCTAssertEqual(PaymentStatus.allCases.map(\.rawValue),
                       ["PENDING", "COMPLETED", "FAILED", "CANCELLED", "PARTIAL_CANCELLED"])
        XCTAssertEqual(SubscriptionStatus.active.koreanLabel, "활성")
        XCTAssertEqual(PaymentStatus.completed.koreanLabel, "완료")
        XCTAssertEqual(Set(SubscriptionStatus.allCases.map(\.koreanLabel)).count, SubscriptionStatus.allCases.count)
        XCTAssertEqual(Set(PaymentStatus.allCases.map(\.koreanLabel)).count, PaymentStatus.allCases.count)
        XCTAssertEqual(SubscriptionStatus.allCases.filter(\.isFinal), [.cancelled, .expired, .inactive])
    }
}
