import Foundation
import Billing

let seoul = TimeZone(identifier: "Asia/Seoul")!
let seoulCalendar = BillingCalendar(timeZone: seoul)

/// A wall-clock instant in `zone` (Seoul unless said otherwise).
func date(
    _ year: Int, _ month: Int, _ day: Int,
    _ hour: Int = 0, _ minute: Int = 0, _ second: Int = 0,
    in zone: TimeZone = seoul
) -> Date {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = zone
    let components = DateComponents(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
    return calendar.date(from: components)!
}

/// RFC 3339 in `zone`, with milliseconds, so failure messages show wall-clock values.
func show(_ date: Date?, in zone: TimeZone = seoul) -> String {
    guard let date else { return "nil" }
    let formatter = ISO8601DateFormatter()
    formatter.timeZone = zone
    formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return formatter.string(from: date)
}

/// SplitMix64: a tiny seeded generator, so property-style loops are reproducible.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
