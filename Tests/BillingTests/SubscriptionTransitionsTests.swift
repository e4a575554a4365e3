import Foundation
import XCTest
import Billing

final class SubscriptionTransitionsTests: XCTestCase {
    private let anchor = date(2027, 1, 31, 10)
    private let now = date(2027, 2, 10, 12)
    private var active: SubscriptionState { SubscriptionState(status: .active, anchor: anchor, currentPeriodIndex: 2) }
    private var pastDue: SubscriptionState {
        SubscriptionState(status: .pastDue, anchor: anchor, currentPeriodIndex: 2, failedAttempts: 1)
    }

    private func assertApplies(
        _ event: SubscriptionEvent, to state: SubscriptionState, gives want: SubscriptionState,
        dunning: DunningSchedule = .standard, file: StaticString = #filePath, line: UInt = #line
    ) {
        switch apply(event, to: state, dunning: dunning) {
        case .success(let got):
            XCTAssertEqual(got, want, "\(event) on \(state)", file: file, line: line)
        case .failure(let error):
            XCTFail("\(event) on \(state) refused with \(error); want \(want)", file: file, line: line)
        }
    }

    private func assertRefuses(
        _ event: SubscriptionEvent, on state: SubscriptionState, with want: SubscriptionTransitionError,
        file: StaticString = #filePath, line: UInt = #line
    ) {
        switch apply(event, to: state, dunning: .standard) {
        case .success(let got):
            XCTFail("\(event) on \(state) gave \(got); want refusal \(want)", file: file, line: line)
        case .failure(let error):
            XCTAssertEqual(error, want, "\(event) on \(state)", file: file, line: line)
        }
    }

    private var everyEvent: [SubscriptionEvent] {
        [.firstPaymentSucceeded(at: now), .renewalSucceeded(periodIndex: 3), .renewalDeclined(periodIndex: 3),
         .periodEndReachedWithCancel, .cancelNow(at: now), .cancelAtPeriodEnd, .resume, .cardReplaced]
    }

    // MARK: PENDING

    func testFirstPaymentActivatesAPendingSubscriptionAnchoredAtThePaymentInstant() {
        assertApplies(.firstPaymentSucceeded(at: anchor), to: .pending,
                      gives: SubscriptionState(status: .active, anchor: anchor, currentPeriodIndex: 0))
    }

    func testPendingSubscriptionCanBeCancelledNow() {
        assertApplies(.cancelNow(at: now), to: .pending, gives: SubscriptionState(status: .cancelled, cancelledAt: now))
    }

    func testCardReplacedOnPendingChangesNothing() {
        assertApplies(.cardReplaced, to: .pending, gives: .pending)
    }

    func testPendingSubscriptionRefusesRenewalsCancelAtPeriodEndExpiryAndResume() {
        assertRefuses(.renewalSucceeded(periodIndex: 1), on: .pending, with: .notActive)
        assertRefuses(.renewalDeclined(periodIndex: 1), on: .pending, with: .notActive)
        assertRefuses(.periodEndReachedWithCancel, on: .pending, with: .notActive)
        assertRefuses(.cancelAtPeriodEnd, on: .pending, with: .notActive)
        assertRefuses(.resume, on: .pending, with: .notResumable)
    }

    // MARK: ACTIVE

    func testRenewalSucceededMovesToTheNextPaidPeriod() {
        var want = active
        want.currentPeriodIndex = 3
        assertApplies(.renewalSucceeded(periodIndex: 3), to: active, gives: want)
    }

    func testRenewalDeclinedMakesAnActiveSubscriptionPastDueWithOneFailedAttempt() {
        assertApplies(.renewalDeclined(periodIndex: 3), to: active,
                      gives: SubscriptionState(status: .pastDue, anchor: anchor, currentPeriodIndex: 2, failedAttempts: 1))
    }

    func testRenewalOutcomesForAnotherPeriodAreRefusedAsMismatches() {
        for state in [active, pastDue] {
            assertRefuses(.renewalSucceeded(periodIndex: 2), on: state, with: .periodMismatch(expected: 3, actual: 2))
            assertRefuses(.renewalSucceeded(periodIndex: 4), on: state, with: .periodMismatch(expected: 3, actual: 4))
            assertRefuses(.renewalDeclined(periodIndex: 2), on: state, with: .periodMismatch(expected: 3, actual: 2))
        }
    }

    func testCancelAtPeriodEndSetsTheFlagAndRepeatingItIsHarmless() {
        var flagged = active
        flagged.cancelAtPeriodEnd = true
        assertApplies(.cancelAtPeriodEnd, to: active, gives: flagged)
        assertApplies(.cancelAtPeriodEnd, to: flagged, gives: flagged)
    }

    func testResumeClearsAPendingCancelAtPeriodEnd() {
        var flagged = active
        flagged.cancelAtPeriodEnd = true
        assertApplies(.resume, to: flagged, gives: active)
    }

    func testResumeWithoutAPendingCancelIsRefused() {
        assertRefuses(.resume, on: active, with: .notResumable)
        assertRefuses(.resume, on: pastDue, with: .notResumable)
    }

    func testPeriodEndWithCancelExpiresTheSubscription() {
        var flagged = active
        flagged.cancelAtPeriodEnd = true
        var want = flagged
        want.status = .expired
        assertApplies(.periodEndReachedWithCancel, to: flagged, gives: want)
    }

    func testPeriodEndWithoutCancelIsRefused() {
        assertRefuses(.periodEndReachedWithCancel, on: active, with: .notCancellingAtPeriodEnd)
        assertRefuses(.periodEndReachedWithCancel, on: pastDue, with: .notActive)
    }

    func testRenewalSettledLateWhileCancellingAtPeriodEndIsRecordedAndKeepsTheCancel() {
        var flagged = active
        flagged.cancelAtPeriodEnd = true
        var want = flagged
        want.currentPeriodIndex = 3
        assertApplies(.renewalSucceeded(periodIndex: 3), to: flagged, gives: want)
    }

    func testActiveSubscriptionCanBeCancelledNow() {
        var want = active
        want.status = .cancelled
        want.cancelledAt = now
        assertApplies(.cancelNow(at: now), to: active, gives: want)
    }

    func testFirstPaymentOnAnActiveOrPastDueSubscriptionIsRefused() {
        assertRefuses(.firstPaymentSucceeded(at: now), on: active, with: .notPending)
        assertRefuses(.firstPaymentSucceeded(at: now), on: pastDue, with: .notPending)
    }

    func testCardReplacedOnActiveChangesNothing() {
        assertApplies(.cardReplaced, to: active, gives: active)
    }

    // MARK: PAST_DUE

    func testEachFurtherDeclineCountsAndTheFourthMakesTheSubscriptionInactive() {
        var state = active
        let expected: [(SubscriptionStatus, Int)] = [(.pastDue, 1), (.pastDue, 2), (.pastDue, 3), (.inactive, 4)]
        for (attempt, (status, failed)) in expected.enumerated() {
            guard case .success(let next) = apply(.renewalDeclined(periodIndex: 3), to: state, dunning: .standard) else {
                return XCTFail("decline \(attempt + 1) refused on \(state)")
            }
            XCTAssertEqual(next.status, status, "after decline \(attempt + 1)")
            XCTAssertEqual(next.failedAttempts, failed, "after decline \(attempt + 1)")
            XCTAssertEqual(next.currentPeriodIndex, 2, "a declined period is never counted as paid")
            state = next
        }
        assertRefuses(.renewalDeclined(periodIndex: 3), on: state, with: .alreadyFinal(.inactive))
    }

    func testAShorterDunningScheduleGivesUpSooner() {
        let noRetries = DunningSchedule(retryOffsetsInDays: [])
        assertApplies(.renewalDeclined(periodIndex: 3), to: active,
                      gives: SubscriptionState(status: .inactive, anchor: anchor, currentPeriodIndex: 2, failedAttempts: 1),
                      dunning: noRetries)
    }

    func testRenewalSucceededDuringDunningReactivatesAndClearsTheFailures() {
        var state = pastDue
        state.failedAttempts = 3
        state.retryImmediately = true
        assertApplies(.renewalSucceeded(periodIndex: 3), to: state,
                      gives: SubscriptionState(status: .active, anchor: anchor, currentPeriodIndex: 3))
    }

    func testCardReplacedDuringDunningMakesTheNextAttemptImmediateUntilItsOutcome() {
        var want = pastDue
        want.retryImmediately = true
        assertApplies(.cardReplaced, to: pastDue, gives: want)

        var declined = pastDue
        declined.failedAttempts = 2
        assertApplies(.renewalDeclined(periodIndex: 3), to: want, gives: declined)
    }

    func testPastDueSubscriptionCanBeCancelledNowButNotAtPeriodEnd() {
        var want = pastDue
        want.status = .cancelled
        want.cancelledAt = now
        assertApplies(.cancelNow(at: now), to: pastDue, gives: want)
        assertRefuses(.cancelAtPeriodEnd, on: pastDue, with: .notActive)
    }

    // MARK: Final statuses

    func testFinalStatusesRefuseEveryEvent() {
        for status in [SubscriptionStatus.cancelled, .expired, .inactive] {
            let state = SubscriptionState(status: status, anchor: anchor, currentPeriodIndex: 2, cancelAtPeriodEnd: status == .expired)
            for event in everyEvent {
                assertRefuses(event, on: state, with: .alreadyFinal(status))
            }
        }
    }

    func testMethodAndFreeFunctionAgree() {
        for state in [SubscriptionState.pending, active, pastDue] {
            for event in everyEvent {
                XCTAssertEqual(state.applying(event, dunning: .standard), apply(event, to: state, dunning: .standard), "\(event) on \(state)")
            }
        }
    }
}
