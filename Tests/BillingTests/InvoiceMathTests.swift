import Foundation
import XCTest
import Billing

final class InvoiceMathTests: XCTestCase {
    func testVATOfTheDemoPlansIsTheSplitTossReports() {
        // Toss: vat = round((amount − taxFreeAmount) ÷ 11), suppliedAmount = the rest.
        for (total, vat) in [(9_900, 900), (19_900, 1_809), (199_000, 18_091), (100, 9), (0, 0), (5, 0), (6, 1), (16, 1), (17, 2)] {
            let totals = InvoiceTotals(lines: [InvoiceLine(kind: .plan, description: "plan", amount: total)])
            XCTAssertEqual(totals.vat, vat, "vat of \(total)")
            XCTAssertEqual(totals.supplyAmount + totals.vat, total, "supply + vat of \(total)")
        }
    }

    func testVATAgreesWithAnIndependentRoundingForEveryAmountUpToAMillion() {
        var generator = SeededGenerator(seed: 11)
        for _ in 0..<20_000 {
            let amount = Int.random(in: 0...1_000_000, using: &generator)
            let independent = Int((Double(amount) / 11).rounded(.toNearestOrAwayFromZero))
            XCTAssertEqual(VAT.included(in: amount), independent, "amount \(amount)")
        }
    }

    func testDiscountsAndCreditsReduceTheTotalButNeverBelowZero() {
        let lines = [InvoiceLine(kind: .plan, description: "프리미엄", amount: 19_900),
                     InvoiceLine(kind: .discount, description: "10% 할인", amount: -1_990),
                     InvoiceLine(kind: .credit, description: "잔여 기간 크레딧", amount: -3_000)]
        let totals = InvoiceTotals(lines: lines)
        XCTAssertEqual(totals.subtotal, 19_900)
        XCTAssertEqual(totals.discount, 4_990)
        XCTAssertEqual(totals.total, 14_910)
        XCTAssertEqual(totals.vat, VAT.included(in: 14_910), "VAT is on the discounted total")

        let overCredited = InvoiceTotals(lines: [InvoiceLine(kind: .plan, description: "베이직", amount: 9_900),
                                                 InvoiceLine(kind: .credit, description: "크레딧", amount: -20_000)])
        XCTAssertEqual(overCredited.total, 0)
        XCTAssertEqual(overCredited.discount, 9_900, "a reduction never exceeds what is charged")
        XCTAssertEqual(overCredited.vat, 0)
    }

    func testProrationLinesCountAsCharges() {
        let totals = InvoiceTotals(lines: [InvoiceLine(kind: .proration, description: "업그레이드 차액", amount: 5_000)])
        XCTAssertEqual(totals.subtotal, 5_000)
        XCTAssertEqual(totals.total, 5_000)
    }

    func testARenewalDeclinedWhileCancellingAtPeriodEndEndsTheSubscriptionWithoutDunning() {
        let leaving = SubscriptionState(status: .active, anchor: date(2027, 1, 31, 10), currentPeriodIndex: 2, cancelAtPeriodEnd: true)
        guard case .success(let next) = leaving.applying(.renewalDeclined(periodIndex: 3), dunning: .standard) else {
            return XCTFail("decline refused")
        }
        XCTAssertEqual(next.status, .expired)
        XCTAssertEqual(next.currentPeriodIndex, 2, "the unpaid period is not served")
    }
}
