import App
import Foundation
import Web

enum ClockCommand {
    static let help = """
    usage: gudok clock set ISO8601 | advance DURATION | show | reset

    The test clock every gudok process reads when GUDOK_TEST_CLOCK=1.
    DURATION: a number with d, h, m or s (31d, 2h, 90m).
    """

    static func run(_ arguments: [String]) throws -> Int32 {
        if CommandLineTool.help(arguments, help) { return 0 }
        let runtime = try Runtime.start()
        guard runtime.configuration.testClockEnabled else {
            throw UsageError(message: "the test clock needs GUDOK_TEST_CLOCK=1 (and is never available in production)")
        }
        let clock = DatabaseTestClock(database: runtime.database)
        let zone = runtime.configuration.timeZone
        switch (arguments.first, arguments.count) {
        case ("set", 2):
            guard let date = RFC3339.parse(arguments[1], defaultZone: zone) else {
                throw UsageError(message: "cannot read '\(arguments[1])' as an ISO 8601 time such as 2026-01-31T09:00:00+09:00")
            }
            try clock.set(date)
        case ("advance", 2):
            guard let seconds = parseDuration(arguments[1]) else {
                throw UsageError(message: "cannot read '\(arguments[1])' as a duration such as 31d, 2h, 90m or 45s")
            }
            try clock.set(clock.now().addingTimeInterval(seconds))
        case ("show", 1):
            break
        case ("reset", 1):
            try clock.set(nil)
            print("test clock reset: real time")
            return 0
        default:
            throw UsageError(message: "usage: gudok clock set ISO8601 | advance DURATION | show | reset")
        }
        if let time = clock.testTime() {
            print(RFC3339.format(time, in: zone))
        } else {
            print("\(RFC3339.format(Date(), in: zone)) (real time; no test clock set)")
        }
        return 0
    }

    static func parseDuration(_ text: String) -> TimeInterval? {
        guard let unit = text.last, let value = Double(text.dropLast()), value >= 0 else { return nil }
        switch unit {
        case "d": return value * 86400
        case "h": return value * 3600
        case "m": return value * 60
        case "s": return value
        default: return nil
        }
    }
}
