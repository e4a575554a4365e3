import Foundation
import XCTest
@testable import Web

final class RFC3339Tests: XCTestCase {
    let seoul = TimeZone(identifier: "Asia/Seoul")!
    let utc = TimeZone(identifier: "UTC")!
    let newYork = TimeZone(identifier: "America/New_York")!

    /// 2026-01-31T00:00:00Z
    let instant = Date(timeIntervalSince1970: 1_769_817_600)

    private func parse(_ text: String, defaultZone: TimeZone? = nil, file: StaticString = #filePath, line: UInt = #line) -> Date? {
        let date = RFC3339.parse(text, defaultZone: defaultZone)
        if date == nil { XCTFail("expected \(text.debugDescription) to parse", file: file, line: line) }
        return date
    }

    func testFormatsInSeoulWithItsOffset() {
        XCTAssertEqual(RFC3339.format(instant, in: seoul), "2026-01-31T09:00:00+09:00")
    }

    func testFormatsInUTCWithZeroOffset() {
        XCTAssertEqual(RFC3339.format(instant, in: utc), "2026-01-31T00:00:00+00:00")
    }

    func testFormatsNegativeOffsets() {
        XCTAssertEqual(RFC3339.format(instant, in: newYork), "2026-01-30T19:00:00-05:00")
        XCTAssertEqual(RFC3339.format(Date(timeIntervalSince1970: 1_783_728_000), in: newYork), "2026-07-10T20:00:00-04:00")
    }

    func testFormatsHalfHourOffsets() {
        let kolkata = TimeZone(identifier: "Asia/Kolkata")!
        XCTAssertEqual(RFC3339.format(instant, in: kolkata), "2026-01-31T05:30:00+05:30")
    }

    func testFormatDropsFractionalSeconds() {
        XCTAssertEqual(RFC3339.format(instant.addingTimeInterval(0.999), in: utc), "2026-01-31T00:00:00+00:00")
    }

    func testFormatsLeapDayAndYearEnd() {
        XCTAssertEqual(RFC3339.format(Date(timeIntervalSince1970: 1_709_164_800), in: utc), "2024-02-29T00:00:00+00:00")
        XCTAssertEqual(RFC3339.format(Date(timeIntervalSince1970: 1_798_729_200), in: seoul), "2027-01-01T00:00:00+09:00")
    }

    func testFormatsDatesBeforeTheEpoch() {
        XCTAssertEqual(RFC3339.format(Date(timeIntervalSince1970: -1), in: utc), "1969-12-31T23:59:59+00:00")
        XCTAssertEqual(RFC3339.format(Date(timeIntervalSince1970: -86400 * 365), in: seoul), "1969-01-01T09:00:00+09:00")
    }

    func testParsesOffsets() {
        XCTAssertEqual(parse("2026-01-31T09:00:00+09:00"), instant)
        XCTAssertEqual(parse("2026-01-30T19:00:00-05:00"), instant)
        XCTAssertEqual(parse("2026-01-31T05:30:00+05:30"), instant)
        XCTAssertEqual(parse("2026-01-31T00:00:00+00:00"), instant)
        XCTAssertEqual(parse("2026-01-31T00:00:00-00:00"), instant)
    }

    func testParsesZulu() {
        XCTAssertEqual(parse("2026-01-31T00:00:00Z"), instant)
        XCTAssertEqual(parse("2026-01-31T00:00:00z"), instant)
    }

    func testExplicitOffsetWinsOverTheDefaultZone() {
        XCTAssertEqual(parse("2026-01-31T00:00:00Z", defaultZone: seoul), instant)
    }

    func testFractionalSecondsAreAcceptedAndTruncatedToTheSecond() {
        XCTAssertEqual(parse("2026-01-31T09:00:00.5+09:00"), instant)
        XCTAssertEqual(parse("2026-01-31T00:00:00.123456789Z"), instant)
    }

    func testNoOffsetReadsInTheDefaultZone() {
        XCTAssertEqual(parse("2026-01-31T09:00:00", defaultZone: seoul), instant)
        XCTAssertEqual(parse("2026-01-31T00:00:00", defaultZone: utc), instant)
        XCTAssertEqual(parse("2026-01-31 09:00:00", defaultZone: seoul), instant)
    }

    func testNoOffsetInADSTZoneUsesTheOffsetInForceAtThatLocalTime() {
        XCTAssertEqual(parse("2026-07-10T20:00:00", defaultZone: newYork), Date(timeIntervalSince1970: 1_783_728_000))
        XCTAssertEqual(parse("2026-01-30T19:00:00", defaultZone: newYork), instant)
    }

    func testDateOnlyIsMidnightInTheDefaultZone() {
        XCTAssertEqual(parse("2026-01-31", defaultZone: seoul), instant.addingTimeInterval(-9 * 3600))
    }

    func testNoOffsetAndNoDefaultZoneIsRejected() {
        XCTAssertNil(RFC3339.parse("2026-01-31T09:00:00"))
        XCTAssertNil(RFC3339.parse("2026-01-31"))
    }

    func testFormatThenParseRoundTripsInEveryZone() {
        var seconds: Int64 = 0
        while seconds < 4_000_000_000 {
            let date = Date(timeIntervalSince1970: TimeInterval(seconds))
            for zone in [seoul, utc, newYork] {
                let text = RFC3339.format(date, in: zone)
                XCTAssertEqual(RFC3339.parse(text), date, text)
            }
            seconds += 7_654_321
        }
    }

    func testInvalidInputsAreRejected() {
        for text in ["", "2026", "2026-01", "2026-1-31T00:00:00Z", "26-01-31T00:00:00Z", "2026/01/31T00:00:00Z", "2026-13-01T00:00:00Z",
                     "2026-00-10T00:00:00Z", "2026-01-00T00:00:00Z", "2026-01-32T00:00:00Z", "2026-01-31T24:00:00Z",
                     "2026-01-31T09:60:00Z", "2026-01-31T09:00:61Z", "2026-01-31X09:00:00Z", "2026-01-31T", "2026-01-31T9:00:00Z",
                     "2026-01-31T09:00:00+0900", "2026-01-31T09:00:00+09", "2026-01-31T09:00:00+9:00", "2026-01-31T09:00:00 +09:00",
                     "2026-01-31T09:00:00+09:00 ", "2026-01-31T09:00:00Zjunk", "2026-01-31T09:00:00ZZ", "2026-01-31T09:00:00UTC",
                     "２０２６-01-31T00:00:00Z", "abcd-ef-ghTij:kl:mnZ", "2026-01-31T09:00:00+09:00\n"] {
            XCTAssertNil(RFC3339.parse(text, defaultZone: seoul), "accepted \(text.debugDescription)")
        }
    }

    /// `2026-02-30` must not be read as 2026-03-02 (`gudok bill --now 2026-02-30T09:00:00+09:00` would bill for March 2).
    func testImpossibleCalendarDatesAreRejected() {
        for text in ["2026-02-29T00:00:00Z", "2026-02-30T00:00:00Z", "2026-04-31T00:00:00Z", "2100-02-29T00:00:00Z"] {
            XCTAssertNil(RFC3339.parse(text), "impossible date \(text) accepted as \(RFC3339.parse(text).map { RFC3339.format($0, in: utc) } ?? "")")
        }
        XCTAssertNotNil(RFC3339.parse("2024-02-29T00:00:00Z"), "a real leap day must parse")
        XCTAssertNotNil(RFC3339.parse("2000-02-29T00:00:00Z"), "a real leap day must parse")
    }
}
