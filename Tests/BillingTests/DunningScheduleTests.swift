import Foundation
import XCTest
import Billing

final class DunningScheduleTests: XCTestCase {
    func testStandardScheduleHasTheRenewalPlusThreeRetries() {
        XCTAssertEqual(DunningSchedule.standard.retryOffsetsInDays, [1, 3, 5])
        XCTAssertEqual(DunningSchedule.standard.maxAttempts, 4)
    }

    func testRetriesAreDueOneThreeAndFiveCalendarDaysAfterTheOriginalDueDate() {
        let originalDue = date(2027, 2, 28, 23, 30)
        let expected: [Int: Date?] = [
            0: nil,
            1: originalDue,
            2: date(2027, 3, 1, 23, 30),
            3: date(2027, 3, 3, 23, 30),
            4: date(2027, 3, 5, 23, 30),
            5: nil,
            99: nil,
        ]
        for (attempt, want) in expected.sorted(by: { $0.key < $1.key }) {
            let got = DunningSchedule.standard.dueDate(forAttempt: attempt, originalDue: originalDue, calendar: seoulCalendar)
            XCTAssertEqual(got, want, "attempt \(attempt): got \(show(got)), want \(show(want))")
        }
    }

    func testRetryDueDatesAreCalendarDaysInTheZoneAcrossDaylightSaving() {
        let newYork = TimeZone(identifier: "America/New_York")!
        let calendar = BillingCalendar(timeZone: newYork)
        let originalDue = date(2027, 3, 13, 9, 0, 0, in: newYork)
        let got = DunningSchedule.standard.dueDate(forAttempt: 2, originalDue: originalDue, calendar: calendar)
        XCTAssertEqual(got, date(2027, 3, 14, 9, 0, 0, in: newYork), show(got, in: newYork))
    }

    func testACustomScheduleHasOneAttemptPerOffsetPlusTheRenewal() {
        let schedule = DunningSchedule(retryOffsetsInDays: [2])
        XCTAssertEqual(schedule.maxAttempts, 2)
        XCTAssertEqual(schedule.dueDate(forAttempt: 2, originalDue: date(2027, 1, 1), calendar: seoulCalendar), date(2027, 1, 3))
        XCTAssertNil(schedule.dueDate(forAttempt: 3, originalDue: date(2027, 1, 1), calendar: seoulCalendar))
    }
}
