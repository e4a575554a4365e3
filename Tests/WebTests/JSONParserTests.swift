import XCTest
@testable import Web

final class JSONParserTests: XCTestCase {
    private func parse(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> JSON? {
        do { return try JSON.parse(text) } catch {
            XCTFail("expected \(text.debugDescription) to parse, got \(error.message) at \(error.offset)", file: file, line: line)
            return nil
        }
    }

    private func assertRejects(_ text: String, _ expectedMessage: String? = nil, file: StaticString = #filePath, line: UInt = #line) {
        assertRejects(Array(text.utf8), expectedMessage, label: text.debugDescription, file: file, line: line)
    }

    private func assertRejects(_ bytes: [UInt8], _ expectedMessage: String? = nil, label: String, file: StaticString = #filePath,
                               line: UInt = #line) {
        do {
            let value = try JSON.parse(bytes)
            XCTFail("expected \(label) to be rejected, parsed as \(value)", file: file, line: line)
        } catch {
            if let expectedMessage {
                XCTAssertEqual(error.message, expectedMessage, "for \(label) at offset \(error.offset)", file: file, line: line)
            }
        }
    }

    private func nested(_ depth: Int) -> String { String(repeating: "[", count: depth) + String(repeating: "]", count: depth) }

    // MARK: structure

    func testParsesObjectsKeepingKeyOrder() {
        let value = parse(#"{"b": 1, "a": [true, false, null], "c": {"d": "e"}}"#)
        XCTAssertEqual(value?.objectValue?.keys, ["b", "a", "c"])
        XCTAssertEqual(value?["a"], .array([.bool(true), .bool(false), .null]))
        XCTAssertEqual(value?["c"]?["d"], .string("e"))
    }

    func testTopLevelScalarsAreAllowed() {
        XCTAssertEqual(parse("42"), .int(42))
        XCTAssertEqual(parse(#""x""#), .string("x"))
        XCTAssertEqual(parse("null"), .null)
        XCTAssertEqual(parse(" \t\r\n true \n"), .bool(true))
    }

    func testEmptyContainers() {
        XCTAssertEqual(parse("[]"), .array([]))
        XCTAssertEqual(parse("{ }"), .object(JSONObject()))
        XCTAssertEqual(parse("[ [ ] , { } ]"), .array([.array([]), .object(JSONObject())]))
    }

    func testDuplicateKeysKeepTheLastValueOnce() {
        let value = parse(#"{"amount": 1, "amount": 2}"#)
        XCTAssertEqual(value?.objectValue?.keys, ["amount"])
        XCTAssertEqual(value?["amount"], .int(2))
    }

    func testNestingUpToTheLimitParses() {
        XCTAssertNotNil(parse(nested(64)))
    }

    func testNestingBeyondTheLimitIsRejected() {
        assertRejects(nested(65), "nesting too deep")
    }

    func testVeryDeepNestingIsRejectedWithoutExhaustingTheStack() {
        assertRejects(String(repeating: "[", count: 200_000), "nesting too deep")
        assertRejects(String(repeating: #"{"a":"#, count: 100_000), "nesting too deep")
    }

    func testCustomDepthLimit() {
        XCTAssertNoThrow(try JSON.parse(Array(nested(3).utf8), maxDepth: 3))
        XCTAssertThrowsError(try JSON.parse(Array(nested(4).utf8), maxDepth: 3))
    }

    func testStructuralErrors() {
        assertRejects("")
        assertRejects("   ")
        assertRejects("[1,]")
        assertRejects("[1 2]")
        assertRejects(#"{"a" 1}"#)
        assertRejects(#"{"a":1,}"#)
        assertRejects(#"{a:1}"#)
        assertRejects(#"{'a':1}"#)
        assertRejects("[")
        assertRejects(#"{"a":"#)
        assertRejects("tru")
        assertRejects("nul")
        assertRejects("True")
        assertRejects("undefined")
    }

    func testTrailingGarbageIsRejected() {
        assertRejects(#"{"a":1}x"#, "trailing characters")
        assertRejects("[] []", "trailing characters")
        assertRejects("1 2", "trailing characters")
        assertRejects("null,", "trailing characters")
    }

    func testErrorOffsetPointsAtTheProblem() {
        do {
            _ = try JSON.parse(#"{"a": 1, "b": x}"#)
            XCTFail("expected a failure")
        } catch {
            XCTAssertEqual(error.offset, 14, error.message)
        }
    }

    // MARK: strings

    func testEscapes() {
        XCTAssertEqual(parse(#""\"\\\/\b\f\n\r\t""#), .string("\"\\/\u{8}\u{C}\n\r\t"))
        XCTAssertEqual(parse(#""\u0041\u00e9\uD55C""#), .string("Aé한"))
    }

    func testRawUTF8Passes() {
        XCTAssertEqual(parse(#""베이직 플랜 🎉""#), .string("베이직 플랜 🎉"))
    }

    func testSurrogatePairDecodesToOneScalar() {
        let value = parse(#""\uD83D\uDE00""#)
        XCTAssertEqual(value, .string("😀"))
        XCTAssertEqual(value?.stringValue?.unicodeScalars.map(\.value), [0x1F600])
    }

    func testLoneHighSurrogateIsRejected() {
        assertRejects(#""\uD83D""#)
        assertRejects(#""\uD83Dx""#)
        assertRejects(#""\uD83D\n""#)
    }

    func testHighSurrogateFollowedByNonLowSurrogateIsRejected() {
        assertRejects(#""\uD83D\u0041""#)
        assertRejects(#""\uD83D\uD83D""#)
    }

    func testLoneLowSurrogateIsRejected() {
        assertRejects(#""\uDE00""#)
    }

    func testBadEscapesAreRejected() {
        assertRejects(#""\x41""#)
        assertRejects(#""\u12""#)
        assertRejects(#""\u12G4""#)
        assertRejects(#""\'""#)
        assertRejects(#""abc\"#)
    }

    func testRawControlCharactersInStringsAreRejected() {
        for byte: UInt8 in [0x00, 0x01, 0x09, 0x0A, 0x0D, 0x1F] {
            assertRejects([0x22, 0x61, byte, 0x62, 0x22], "control character in string", label: "string with byte \(byte)")
        }
    }

    func testEscapedControlCharactersAreAccepted() {
        XCTAssertEqual(parse(#""\u0000\u001f""#), .string("\u{0}\u{1F}"))
    }

    func testDeleteCharacterIsNotAControlCharacterForJSON() {
        XCTAssertEqual(try? JSON.parse([0x22, 0x7F, 0x22]), .string("\u{7F}"))
    }

    func testUnterminatedStringIsRejected() {
        assertRejects(#""abc"#)
    }

    func testInvalidUTF8InsideAStringIsRejected() {
        assertRejects([0x22, 0xC3, 0x28, 0x22], label: "overlong/invalid UTF-8")
        assertRejects([0x22, 0xFF, 0x22], label: "byte 0xFF")
        assertRejects([0x22, 0xED, 0xA0, 0x80, 0x22], label: "UTF-8 encoded surrogate")
    }

    // MARK: numbers

    func testIntegersStayIntegers() {
        XCTAssertEqual(parse("9900"), .int(9900))
        XCTAssertEqual(parse("-17"), .int(-17))
        XCTAssertEqual(parse("0"), .int(0))
    }

    func testFractionsAndExponentsAreDoubles() {
        XCTAssertEqual(parse("9900.0"), .double(9900))
        XCTAssertEqual(parse("9.5"), .double(9.5))
        XCTAssertEqual(parse("1e3"), .double(1000))
        XCTAssertEqual(parse("1E+3"), .double(1000))
        XCTAssertEqual(parse("25e-1"), .double(2.5))
        XCTAssertEqual(parse("-1.5e2"), .double(-150))
    }

    func testIntExtremesStayExact() {
        XCTAssertEqual(parse("9223372036854775807"), .int(Int.max))
        XCTAssertEqual(parse("-9223372036854775808"), .int(Int.min))
    }

    func testIntegersBeyondIntBecomeDoubles() {
        XCTAssertEqual(parse("9223372036854775808"), .double(9223372036854775808))
        XCTAssertEqual(parse("-99999999999999999999"), .double(-1e20))
        XCTAssertNil(parse("123456789012345678901234567890")?.intValue)
    }

    func testNegativeZeroParsesAsZero() {
        let value = parse("-0")
        switch value {
        case .int(let i): XCTAssertEqual(i, 0)
        case .double(let d): XCTAssertEqual(d, 0)
        default: XCTFail("expected a number for -0, got \(String(describing: value))")
        }
        XCTAssertEqual(parse("-0.0"), .double(-0.0))
    }

    func testMalformedNumbersAreRejected() {
        for text in ["01", "-01", "+1", ".5", "1.", "1.e3", "1e", "1e+", "-", "--1", "0x10", "1_000", "NaN", "Infinity", "-Infinity", "1,000"] {
            assertRejects(text)
            assertRejects("[\(text)]")
        }
    }

    func testOverflowingExponentDoesNotProduceANonFiniteValueThatSerializesAsNumber() {
        // 1e400 is grammatical JSON; whatever the parser makes of it, serialising must stay valid JSON.
        if let value = try? JSON.parse("1e400") {
            let text = value.serializedString()
            XCTAssertNoThrow(try JSON.parse(text), "1e400 re-serialised as \(text)")
        }
    }
}
