import Foundation

/// The billing calendar (docs/billing.md#calendar), in one explicit time zone.
///
/// Period *k* starts at the anchor plus *k* cycles, at the anchor's wall-clock
/// time of day, with the day clamped to the target month's last day. Each start
/// is computed from the anchor, never chained from the previous start, so an
/// anchor on the 31st returns to the 31st after a short month.
public struct BillingCalendar: Sendable {
    public let timeZone: TimeZone
    private let calendar: Calendar

    public init(timeZone: TimeZone) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        self.timeZone = timeZone
        self.calendar = calendar
    }

    /// The calendar year `date` falls in, in the zone.
    public func year(of date: Date) -> Int { calendar.component(.year, from: date) }

    /// The start of period `index`; index 0 is the anchor itself.
    public func periodStart(anchor: Date, cycle: BillingCycle, index: Int) -> Date {
        if index == 0 { return anchor }
        return adding(months: index * cycle.months, to: anchor)
    }

    /// Period `index` as a half-open interval; its end is the start of the next one.
    public func period(anchor: Date, cycle: BillingCycle, index: Int) -> BillingPeriod {
        BillingPeriod(
            index: index,
            start: periodStart(anchor: anchor, cycle: cycle, index: index),
            end: periodStart(anchor: anchor, cycle: cycle, index: index + 1)
        )
    }

    /// The index *k* with `periodStart(k) <= date < periodStart(k + 1)`; 0 for dates before the anchor.
    ///
    /// Estimated from the difference in calendar months, then corrected by at
    /// most a step or two: constant time, whatever the distance from the anchor.
    public func periodIndex(containing date: Date, anchor: Date, cycle: BillingCycle) -> Int {
        guard date > anchor else { return 0 }
        let from = calendar.dateComponents([.year, .month], from: anchor)
        let to = calendar.dateComponents([.year, .month], from: date)
        let monthDifference = (to.year! - from.year!) * 12 + (to.month! - from.month!)
        var index = max(0, monthDifference / cycle.months)
        while index > 0, periodStart(anchor: anchor, cycle: cycle, index: index) > date {
            index -= 1
        }
        while periodStart(anchor: anchor, cycle: cycle, index: index + 1) <= date {
            index += 1
        }
        return index
    }

    /// `days` calendar days later (earlier when negative) at the same wall-clock
    /// time in the zone, so a day across a DST change is 23 or 25 hours long.
    public func addingDays(_ days: Int, to date: Date) -> Date {
        guard let result = calendar.date(byAdding: .day, value: days, to: date) else {
            preconditionFailure("cannot add \(days) days to \(date) in \(timeZone.identifier)")
        }
        return result
    }

    /// `months` calendar months after `date`, same wall-clock time, day clamped
    /// to the target month's length. Sub-second precision is carried over as is.
    private func adding(months: Int, to date: Date) -> Date {
        let units: Set<Calendar.Component> = [.year, .month, .day, .hour, .minute, .second]
        let wallClock = calendar.dateComponents(units, from: date)
        guard let wholeSecond = calendar.date(from: wallClock) else {
            preconditionFailure("cannot rebuild \(date) in \(timeZone.identifier)")
        }
        let fraction = date.timeIntervalSince(wholeSecond)

        let monthNumber = wallClock.year! * 12 + (wallClock.month! - 1) + months
        let year = monthNumber.floorDivided(by: 12)
        let month = monthNumber - year * 12 + 1

        var target = wallClock
        target.year = year
        target.month = month
        target.day = min(wallClock.day!, daysIn(year: year, month: month))
        guard let start = calendar.date(from: target) else {
            preconditionFailure("cannot build \(target) in \(timeZone.identifier)")
        }
        return start.addingTimeInterval(fraction)
    }

    private func daysIn(year: Int, month: Int) -> Int {
        let first = DateComponents(year: year, month: month, day: 1, hour: 12)
        guard let date = calendar.date(from: first),
              let days = calendar.range(of: .day, in: .month, for: date)
        else {
            preconditionFailure("no month \(year)-\(month) in \(timeZone.identifier)")
        }
        return days.count
    }
}

private extension Int {
    /// Division rounding toward minus infinity, so negative month offsets land in the right year.
    func floorDivided(by divisor: Int) -> Int {
        let quotient = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? quotient - 1 : quotient
    }
}
