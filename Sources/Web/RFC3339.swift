import Foundation

/// RFC 3339 timestamps with the zone's offset, e.g. `2026-01-31T09:00:00+09:00`. Thread-safe, no formatter objects.
public enum RFC3339 {
    public static func format(_ date: Date, in zone: TimeZone) -> String {
        let seconds = Int(date.timeIntervalSince1970.rounded(.down))
        let offset = zone.secondsFromGMT(for: date)
        let local = seconds + offset
        let days = Int((Double(local) / 86400).rounded(.down))
        let secondOfDay = local - days * 86400
        let (year, month, day) = civil(fromDays: days)
        let absolute = abs(offset)
        var out = ""
        out.reserveCapacity(25)
        append(year, width: 4, to: &out)
        out += "-"
        append(month, width: 2, to: &out)
        out += "-"
        append(day, width: 2, to: &out)
        out += "T"
        append(secondOfDay / 3600, width: 2, to: &out)
        out += ":"
        append(secondOfDay % 3600 / 60, width: 2, to: &out)
        out += ":"
        append(secondOfDay % 60, width: 2, to: &out)
        out += offset < 0 ? "-" : "+"
        append(absolute / 3600, width: 2, to: &out)
        out += ":"
        append(absolute % 3600 / 60, width: 2, to: &out)
        return out
    }

    private static func append(_ value: Int, width: Int, to out: inout String) {
        let digits = String(value)
        if digits.count < width { out += String(repeating: "0", count: width - digits.count) }
        out += digits
    }

    /// Parses `YYYY-MM-DDTHH:MM:SS[.fff](Z|±HH:MM)`; a date-time without an offset is read in `defaultZone`.
    public static func parse(_ text: String, defaultZone: TimeZone? = nil) -> Date? {
        let scalars = Array(text.utf8)
        func number(_ from: Int, _ length: Int) -> Int? {
            guard from + length <= scalars.count else { return nil }
            var value = 0
            for byte in scalars[from..<from + length] {
                guard byte >= 48 && byte <= 57 else { return nil }
                value = value * 10 + Int(byte - 48)
            }
            return value
        }
        guard scalars.count >= 10, let year = number(0, 4), scalars[4] == 45, let month = number(5, 2), scalars[7] == 45,
              let day = number(8, 2), (1...12).contains(month), (1...31).contains(day) else { return nil }
        var hour = 0, minute = 0, second = 0
        var index = 10
        if index < scalars.count {
            guard scalars[index] == UInt8(ascii: "T") || scalars[index] == UInt8(ascii: " "),
                  let h = number(11, 2), scalars.count > 13, scalars[13] == 58, let m = number(14, 2) else { return nil }
            hour = h
            minute = m
            index = 16
            if index < scalars.count, scalars[index] == 58 {
                guard let s = number(17, 2) else { return nil }
                second = s
                index = 19
            }
            if index < scalars.count, scalars[index] == UInt8(ascii: ".") {
                index += 1
                while index < scalars.count, scalars[index] >= 48 && scalars[index] <= 57 { index += 1 }
            }
        }
        guard hour < 24, minute < 60, second < 61, day <= daysInMonth(year, month) else { return nil }
        let localSeconds = days(fromCivil: year, month, day) * 86400 + hour * 3600 + minute * 60 + second
        var offset: Int
        if index == scalars.count {
            guard let zone = defaultZone else { return nil }
            let guess = Date(timeIntervalSince1970: TimeInterval(localSeconds))
            offset = zone.secondsFromGMT(for: guess.addingTimeInterval(TimeInterval(-zone.secondsFromGMT(for: guess))))
        } else if scalars[index] == UInt8(ascii: "Z") || scalars[index] == UInt8(ascii: "z") {
            guard index + 1 == scalars.count else { return nil }
            offset = 0
        } else {
            guard scalars[index] == 43 || scalars[index] == 45, let oh = number(index + 1, 2), scalars.count > index + 3,
                  scalars[index + 3] == 58, let om = number(index + 4, 2), index + 6 == scalars.count else { return nil }
            offset = (oh * 3600 + om * 60) * (scalars[index] == 45 ? -1 : 1)
        }
        return Date(timeIntervalSince1970: TimeInterval(localSeconds - offset))
    }

    static func daysInMonth(_ year: Int, _ month: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    // Howard Hinnant's civil calendar algorithms.
    static func civil(fromDays z0: Int) -> (Int, Int, Int) {
        let z = z0 + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? y + 1 : y, m, d)
    }

    static func days(fromCivil y0: Int, _ m: Int, _ d: Int) -> Int {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }
}
