import Foundation
import XCTest
import Billing

final class NextRenewalDateTests: XCTestCase {
    private let anchor = date(2027, 1, 31, 10)

    private func next(_ state: SubscriptionState, dunning: DunningSchedule = .standard) -> Date? {
        nextRenewalDate(state: state, calendar: seoulCalendar, cycle: .monthly, dunning: dunning)
    }

    func testNextRenewalDateIsTheNextPeriodStartOrTheScheduledRetry() {
        let cases: [(SubscriptionState, Date?)] = [
            (SubscriptionState(status: .active, anchor: anchor, currentPeriodIndex: 1), date(2027, 3, 31, 10)),
            (SubscriptionState(status: .active, anchor: anchor, currentPeriodIndex: 1, cancelAtPeriodEnd: true), date(2027, 3, 31, 10)),
            (SubscriptionState(status: .pastDue, anchor: anchor, currentPeriodIndex: 1, failedAttempts: 1), date(2027, 4, 1, 10)),
            (SubscriptionState(status: .pastDue, anchor: anchor, currentPeriodIndex: 1, failedAttempts: 3), date(2027, 4, 5, 10)),
            (SubscriptionState(status: .pastDue, anchor: anchor, currentPeriodIndex: 1, failedAttempts: 3, retryImmediately: true), date(2027, 3, 31, 10)),
            (SubscriptionState(status: .pastDue, anchor: anchor, currentPeriodIndex: 1, failedAttempts: 4), date(2027, 3, 31, 10)),
            (.pending, nil),
            (SubscriptionState(status: .cancelled, anchor: anchor, currentPeriodIndex: 1), nil),
            (SubscriptionState(status: .expired, anchor: anchor, currentPeriodIndex: 1), nil),
            (SubscriptionState(status: .inactive, anchor: anchor, currentPeriodIndex: 1, failedAttempts: 4), nil),
        ]
        for (state, want) in cases {
            let got = next(state)
            XCTAssertEqual(got, want, "\(state): got \(show(got)), want \(show(want))")
        }
    }

    func testRenewalDecisionTurnsFromNotDueToActionExactlyAtTheNextRenewalDate() {
        var random = SeededGenerator(seed: 7)
        for _ in 0..<500 {
            let cycle = BillingCycle.allCases.randomElement(using: &random)!
            let status: SubscriptionStatus = Bool.random(using: &random) ? .active : .pastDue
            let state = SubscriptionState(
                status: status, anchor: anchor.addingTimeInterval(Double(Int.random(in: 0..<(86_400 * 3_650), using: &random))),
                currentPeriodIndex: Int.random(in: 0..<50, using: &random),
                cancelAtPeriodEnd: status == .active && Bool.random(using: &random),
                failedAttempts: status == .pastDue ? Int.random(in: 1...3, using: &random) : 0
            )
            guard let due = nextRenewalDate(state: state, calendar: seoulCalendar, cycle: cycle, dunning: .standard) else {
                return XCTFail("no next renewal date for \(state)")
            }
            let before = renewalDecision(state: state, now: due.addingTimeInterval(-1), calendar: seoulCalendar, cycle: cycle, dunning: .standard)
            let at = renewalDecision(state: state, now: due, calendar: seoulCalendar, cycle: cycle, dunning: .standard)
            XCTAssertEqual(before, .notDue, "\(cycle) \(state) one second before \(show(due))")
            XCTAssertNotEqual(at, .notDue, "\(cycle) \(state) at \(show(due))")
        }
    }
}
