import Foundation
import XCTest
import Billing

final class RenewalDecisionTests: XCTestCase {
    private let anchor = date(2027, 1, 31, 10)
    /// Period 2 of a monthly subscription anchored on Jan 31 starts Mar 31.
    private let period2Start = date(2027, 3, 31, 10)

    private func decide(_ state: SubscriptionState, at now: Date, dunning: DunningSchedule = .standard) -> RenewalDecision {
        renewalDecision(state: state, now: now, calendar: seoulCalendar, cycle: .monthly, dunning: dunning)
    }

    private func active(cancelAtPeriodEnd: Bool = false) -> SubscriptionState {
        SubscriptionState(status: .active, anchor: anchor, currentPeriodIndex: 1, cancelAtPeriodEnd: cancelAtPeriodEnd)
    }

    private func pastDue(failedAttempts: Int, retryImmediately: Bool = false) -> SubscriptionState {
        SubscriptionState(status: .pastDue, anchor: anchor, currentPeriodIndex: 1,
                          failedAttempts: failedAttempts, retryImmediately: retryImmediately)
    }

    func testActiveSubscriptionIsNotDueBeforeTheNextPeriodStarts() {
        XCTAssertEqual(decide(active(), at: period2Start.addingTimeInterval(-1)), .notDue)
    }

    func testActiveSubscriptionIsChargedForTheNextPeriodFromItsStart() {
        let want = RenewalDecision.charge(periodIndex: 2, attempt: 1, dueAt: period2Start)
        XCTAssertEqual(decide(active(), at: period2Start), want)
        XCTAssertEqual(decide(active(), at: date(2027, 4, 20)), want, "a late biller still charges the overdue period")
    }

    func testCancellingAtPeriodEndExpiresInsteadOfCharging() {
        XCTAssertEqual(decide(active(cancelAtPeriodEnd: true), at: period2Start.addingTimeInterval(-1)), .notDue)
        XCTAssertEqual(decide(active(cancelAtPeriodEnd: true), at: period2Start), .expire)
    }

    func testPastDueRetriesFollowTheScheduleFromTheOriginalDueDate() {
        let retries: [(failed: Int, due: Date)] = [
            (1, date(2027, 4, 1, 10)),
            (2, date(2027, 4, 3, 10)),
            (3, date(2027, 4, 5, 10)),
        ]
        for (failed, due) in retries {
            let state = pastDue(failedAttempts: failed)
            XCTAssertEqual(decide(state, at: due.addingTimeInterval(-1)), .notDue, "after \(failed) declines, just before \(show(due))")
            XCTAssertEqual(decide(state, at: due), .charge(periodIndex: 2, attempt: failed + 1, dueAt: due),
                           "after \(failed) declines, at \(show(due))")
        }
    }

    func testNewCardDuringDunningMakesTheNextAttemptDueAtOnce() {
        let now = date(2027, 4, 1, 12)
        XCTAssertEqual(decide(pastDue(failedAttempts: 2), at: now), .notDue)
        XCTAssertEqual(decide(pastDue(failedAttempts: 2, retryImmediately: true), at: now),
                       .charge(periodIndex: 2, attempt: 3, dueAt: date(2027, 4, 3, 10)))
    }

    func testPastDueWithNoAttemptLeftInTheScheduleGivesUp() {
        XCTAssertEqual(decide(pastDue(failedAttempts: 2), at: date(2027, 5, 1), dunning: DunningSchedule(retryOffsetsInDays: [1])), .giveUp)
        XCTAssertEqual(decide(pastDue(failedAttempts: 4), at: date(2027, 5, 1)), .giveUp)
    }

    func testPendingFinalAndUnanchoredSubscriptionsAreNeverDue() {
        let later = date(2030, 1, 1)
        XCTAssertEqual(decide(.pending, at: later), .notDue)
        for status in [SubscriptionStatus.cancelled, .expired, .inactive] {
            XCTAssertEqual(decide(SubscriptionState(status: status, anchor: anchor, currentPeriodIndex: 1), at: later), .notDue, "\(status)")
        }
        XCTAssertEqual(decide(SubscriptionState(status: .active), at: later), .notDue)
    }

    func testWalkingAMockClockThroughAFullDunningRunChargesEachAttemptOnceThenStops() {
        var state = active()
        var charges: [RenewalDecision] = []
        var instant = date(2027, 3, 30)
        while instant < date(2027, 4, 10) {
            if case .charge(let period, _, _) = decide(state, at: instant) {
                charges.append(decide(state, at: instant))
                guard case .success(let next) = apply(.renewalDeclined(periodIndex: period), to: state, dunning: .standard) else {
                    return XCTFail("decline refused on \(state)")
                }
                state = next
            }
            instant = instant.addingTimeInterval(3_600)
        }
        XCTAssertEqual(charges, [
            .charge(periodIndex: 2, attempt: 1, dueAt: date(2027, 3, 31, 10)),
            .charge(periodIndex: 2, attempt: 2, dueAt: date(2027, 4, 1, 10)),
            .charge(periodIndex: 2, attempt: 3, dueAt: date(2027, 4, 3, 10)),
            .charge(periodIndex: 2, attempt: 4, dueAt: date(2027, 4, 5, 10)),
        ])
        XCTAssertEqual(state.status, .inactive)
    }
}
