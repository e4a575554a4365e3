import Foundation
import XCTest
import Billing

final class BillingCalendarTests: XCTestCase {
    private func assertStarts(
        anchor: Date, cycle: BillingCycle, expected: [Date],
        calendar: BillingCalendar = seoulCalendar, zone: TimeZone = seoul,
        file: StaticString = #filePath, line: UInt = #line
    ) {
        for (index, want) in expected.enumerated() {
            let got = calendar.periodStart(anchor: anchor, cycle: cycle, index: index)
            XCTAssertEqual(
                got, want,
                "\(cycle) period \(index) from \(show(anchor, in: zone)): got \(show(got, in: zone)), want \(show(want, in: zone))",
                file: file, line: line
            )
        }
    }

    func testMonthlyFromJan31ClampsToEachMonthEndWithoutDriftThroughLeapFebruary() {
        let expected = [
            date(2027, 1, 31, 10), date(2027, 2, 28, 10), date(2027, 3, 31, 10), date(2027, 4, 30, 10),
            date(2027, 5, 31, 10), date(2027, 6, 30, 10), date(2027, 7, 31, 10), date(2027, 8, 31, 10),
            date(2027, 9, 30, 10), date(2027, 10, 31, 10), date(2027, 11, 30, 10), date(2027, 12, 31, 10),
            date(2028, 1, 31, 10), date(2028, 2, 29, 10), date(2028, 3, 31, 10),
        ]
        assertStarts(anchor: date(2027, 1, 31, 10), cycle: .monthly, expected: expected)
    }

    func testQuarterlyFromNov30ClampsInFebruaryAndReturnsToThe30th() {
        let expected = [
            date(2027, 11, 30, 9), date(2028, 2, 29, 9), date(2028, 5, 30, 9), date(2028, 8, 30, 9),
            date(2028, 11, 30, 9), date(2029, 2, 28, 9), date(2029, 5, 30, 9),
        ]
        assertStarts(anchor: date(2027, 11, 30, 9), cycle: .quarterly, expected: expected)
    }

    func testQuarterlyFromAug31ClampsToNov30AndFeb28ThenBackTo31() {
        let expected = [date(2026, 8, 31), date(2026, 11, 30), date(2027, 2, 28), date(2027, 5, 31), date(2027, 8, 31)]
        assertStarts(anchor: date(2026, 8, 31), cycle: .quarterly, expected: expected)
    }

    func testYearlyFromFeb29IsFeb28InCommonYearsAndFeb29InLeapYearsOverEightYears() {
        let expected = [
            date(2028, 2, 29, 15), date(2029, 2, 28, 15), date(2030, 2, 28, 15), date(2031, 2, 28, 15),
            date(2032, 2, 29, 15), date(2033, 2, 28, 15), date(2034, 2, 28, 15), date(2035, 2, 28, 15),
            date(2036, 2, 29, 15),
        ]
        assertStarts(anchor: date(2028, 2, 29, 15), cycle: .yearly, expected: expected)
    }

    func testYearlyFromAnOrdinaryDayKeepsTheDay() {
        let expected = [date(2026, 7, 15, 12), date(2027, 7, 15, 12), date(2028, 7, 15, 12)]
        assertStarts(anchor: date(2026, 7, 15, 12), cycle: .yearly, expected: expected)
    }

    func testLateEveningSeoulAnchorKeepsItsTimeOfDayAndClampsBySeoulDate() {
        // 2026-01-31T23:30+09:00 is 14:30 on Jan 31 in UTC.
        let anchor = date(2026, 1, 31, 23, 30)
        XCTAssertEqual(show(anchor, in: TimeZone(identifier: "UTC")!), "2026-01-31T14:30:00.000Z")
        assertStarts(anchor: anchor, cycle: .monthly, expected: [
            anchor, date(2026, 2, 28, 23, 30), date(2026, 3, 31, 23, 30), date(2026, 4, 30, 23, 30),
        ])
        XCTAssertEqual(show(seoulCalendar.periodStart(anchor: anchor, cycle: .monthly, index: 1)), "2026-02-28T23:30:00.000+09:00")
    }

    func testEarlyMorningSeoulAnchorFollowsTheSeoulMonthNotTheUTCMonth() {
        // 2026-03-01T08:00+09:00 is Feb 28 in UTC; a UTC calendar would land on Mar 29 in Seoul.
        assertStarts(anchor: date(2026, 3, 1, 8), cycle: .monthly, expected: [
            date(2026, 3, 1, 8), date(2026, 4, 1, 8), date(2026, 5, 1, 8),
        ])
        // 2026-03-31T05:00+09:00 is Mar 30 in UTC; a UTC calendar would land on May 1 in Seoul.
        assertStarts(anchor: date(2026, 3, 31, 5), cycle: .monthly, expected: [
            date(2026, 3, 31, 5), date(2026, 4, 30, 5), date(2026, 5, 31, 5),
        ])
    }

    func testSubSecondPrecisionOfTheAnchorIsCarriedToEveryPeriod() {
        let anchor = date(2026, 5, 31, 18, 45, 7).addingTimeInterval(0.25)
        let start = seoulCalendar.periodStart(anchor: anchor, cycle: .monthly, index: 1)
        XCTAssertEqual(start, date(2026, 6, 30, 18, 45, 7).addingTimeInterval(0.25), show(start))
        XCTAssertEqual(seoulCalendar.periodStart(anchor: anchor, cycle: .monthly, index: 0), anchor)
    }

    func testMonthlyPeriodsKeepWallClockTimeAcrossDaylightSavingChanges() {
        let newYork = TimeZone(identifier: "America/New_York")!
        let calendar = BillingCalendar(timeZone: newYork)
        let anchor = date(2027, 1, 31, 9, 0, 0, in: newYork)
        assertStarts(anchor: anchor, cycle: .monthly, expected: [
            anchor, date(2027, 2, 28, 9, 0, 0, in: newYork), date(2027, 3, 31, 9, 0, 0, in: newYork),
        ], calendar: calendar, zone: newYork)
    }

    func testPeriodIsHalfOpenAndEndsWhereTheNextStarts() {
        let anchor = date(2027, 1, 31, 10)
        let period = seoulCalendar.period(anchor: anchor, cycle: .monthly, index: 1)
        XCTAssertEqual(period, BillingPeriod(index: 1, start: date(2027, 2, 28, 10), end: date(2027, 3, 31, 10)))
        XCTAssertTrue(period.contains(period.start))
        XCTAssertFalse(period.contains(period.end))
        XCTAssertEqual(period.end, seoulCalendar.period(anchor: anchor, cycle: .monthly, index: 2).start)
    }

    func testPeriodIndexAtBoundariesAndBeforeTheAnchor() {
        let anchor = date(2027, 1, 31, 10)
        let cases: [(Date, Int)] = [
            (anchor.addingTimeInterval(-86_400 * 400), 0),
            (anchor.addingTimeInterval(-0.001), 0),
            (anchor, 0),
            (date(2027, 2, 28, 9, 59, 59), 0),
            (date(2027, 2, 28, 10), 1),
            (date(2027, 3, 1), 1),
            (date(2027, 3, 31, 9, 59, 59), 1),
            (date(2027, 3, 31, 10), 2),
            (date(2028, 2, 29, 10), 13),
            (date(2028, 2, 29, 9), 12),
        ]
        for (instant, want) in cases {
            let got = seoulCalendar.periodIndex(containing: instant, anchor: anchor, cycle: .monthly)
            XCTAssertEqual(got, want, "periodIndex(\(show(instant))) from \(show(anchor))")
        }
    }

    func testPeriodIndexFarFromTheAnchorIsExact() {
        let anchor = date(2026, 1, 31, 23, 30)
        let start = seoulCalendar.periodStart(anchor: anchor, cycle: .monthly, index: 6_000)
        XCTAssertEqual(seoulCalendar.periodIndex(containing: start, anchor: anchor, cycle: .monthly), 6_000, show(start))
        XCTAssertEqual(seoulCalendar.periodIndex(containing: start.addingTimeInterval(-1), anchor: anchor, cycle: .monthly), 5_999)
    }

    func testPeriodIndexRoundTripsForRandomAnchorsAndDates() {
        var random = SeededGenerator(seed: 0x6775_646F_6B)
        let zones = [seoul, TimeZone(identifier: "America/New_York")!, TimeZone(identifier: "UTC")!]
        let base = date(2020, 1, 1).timeIntervalSinceReferenceDate
        let twentyYears = 20.0 * 365 * 86_400
        for round in 0..<3_000 {
            let zone = zones.randomElement(using: &random)!
            let calendar = BillingCalendar(timeZone: zone)
            let cycle = BillingCycle.allCases.randomElement(using: &random)!
            let anchor = Date(timeIntervalSinceReferenceDate: (base + Double.random(in: 0..<twentyYears, using: &random)).rounded())
            let instant = anchor.addingTimeInterval(Double.random(in: -86_400 * 40..<twentyYears, using: &random))
            let context = "round \(round): \(cycle) in \(zone.identifier), anchor \(show(anchor, in: zone)), date \(show(instant, in: zone))"

            let k = calendar.periodIndex(containing: instant, anchor: anchor, cycle: cycle)
            let period = calendar.period(anchor: anchor, cycle: cycle, index: k)
            if instant < anchor {
                XCTAssertEqual(k, 0, context)
            } else {
                XCTAssertTrue(period.contains(instant), "\(context): k=\(k) [\(show(period.start, in: zone)), \(show(period.end, in: zone)))")
            }

            let j = Int.random(in: 0..<300, using: &random)
            let start = calendar.periodStart(anchor: anchor, cycle: cycle, index: j)
            let next = calendar.periodStart(anchor: anchor, cycle: cycle, index: j + 1)
            XCTAssertLessThan(start, next, "\(context): start(\(j)) \(show(start, in: zone)) not before start(\(j + 1))")
            XCTAssertEqual(calendar.periodIndex(containing: start, anchor: anchor, cycle: cycle), j, "\(context): start(\(j)) = \(show(start, in: zone))")
            XCTAssertEqual(calendar.periodIndex(containing: next.addingTimeInterval(-0.001), anchor: anchor, cycle: cycle), j, "\(context): just before start(\(j + 1)) = \(show(next, in: zone))")
        }
    }

    func testAddingDaysKeepsWallClockTimeAcrossDaylightSavingStart() {
        let newYork = TimeZone(identifier: "America/New_York")!
        let calendar = BillingCalendar(timeZone: newYork)
        let before = date(2027, 3, 13, 12, 0, 0, in: newYork)
        let after = calendar.addingDays(1, to: before)
        XCTAssertEqual(after, date(2027, 3, 14, 12, 0, 0, in: newYork), show(after, in: newYork))
        XCTAssertEqual(after.timeIntervalSince(before), 23 * 3_600)
    }

    func testAddingDaysInSeoulCrossesMonthsAndYears() {
        XCTAssertEqual(seoulCalendar.addingDays(5, to: date(2027, 12, 30, 23, 30)), date(2028, 1, 4, 23, 30))
        XCTAssertEqual(seoulCalendar.addingDays(1, to: date(2028, 2, 28, 10)), date(2028, 2, 29, 10))
        XCTAssertEqual(seoulCalendar.addingDays(-1, to: date(2027, 3, 1, 10)), date(2027, 2, 28, 10))
    }
}
