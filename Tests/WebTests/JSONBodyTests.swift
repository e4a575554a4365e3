import XCTest
@testable import Web

final class JSONBodyTests: XCTestCase {
    private func body(_ text: String) throws(HTTPError) -> JSONBody {
        try JSONBody(HTTPRequest(method: "POST", path: "/api/x", headers: ["content-type": "application/json"], body: Array(text.utf8)))
    }

    private func assertBadRequest(_ code: String, mentioning field: String? = nil, file: StaticString = #filePath, line: UInt = #line,
                                  _ work: () throws -> Void) {
        do {
            try work()
            XCTFail("expected 400 \(code)", file: file, line: line)
        } catch let error as HTTPError {
            XCTAssertEqual(error.status, 400, error.message, file: file, line: line)
            XCTAssertEqual(error.code, code, error.message, file: file, line: line)
            if let field { XCTAssertTrue(error.message.contains(field), "message should name '\(field)': \(error.message)", file: file, line: line) }
        } catch {
            XCTFail("expected an HTTPError, got \(error)", file: file, line: line)
        }
    }

    func testEmptyBodyIsInvalidJSON() {
        assertBadRequest("INVALID_JSON") { _ = try body("") }
    }

    func testMalformedJSONIsInvalidJSON() {
        assertBadRequest("INVALID_JSON") { _ = try body(#"{"a":"#) }
        assertBadRequest("INVALID_JSON") { _ = try body(#"{"a":1} trailing"#) }
    }

    func testNonObjectTopLevelIsInvalidJSON() {
        assertBadRequest("INVALID_JSON") { _ = try body("[1,2]") }
        assertBadRequest("INVALID_JSON") { _ = try body(#""string""#) }
    }

    func testMissingFieldNamesTheField() {
        assertBadRequest("MISSING_FIELD", mentioning: "username") { _ = try body(#"{"password":"x"}"#).string("username") }
    }

    func testNullCountsAsMissingForRequiredFields() {
        assertBadRequest("MISSING_FIELD", mentioning: "username") { _ = try body(#"{"username":null}"#).string("username") }
    }

    func testWrongTypeNamesTheField() {
        assertBadRequest("INVALID_FIELD", mentioning: "username") { _ = try body(#"{"username":42}"#).string("username") }
        assertBadRequest("INVALID_FIELD", mentioning: "at_period_end") { _ = try body(#"{"at_period_end":"yes"}"#).optionalBool("at_period_end") }
        assertBadRequest("INVALID_FIELD", mentioning: "n") { _ = try body(#"{"n":"1"}"#).int("n") }
        assertBadRequest("INVALID_FIELD", mentioning: "email") { _ = try body(#"{"email":["a"]}"#).optionalString("email") }
    }

    func testOptionalFieldsAbsentOrNullAreNil() throws {
        let parsed = try body(#"{"email":null}"#)
        XCTAssertNil(try parsed.optionalString("email"))
        XCTAssertNil(try parsed.optionalString("missing"))
        XCTAssertNil(try parsed.optionalBool("at_period_end"))
    }

    func testTypedReads() throws {
        let parsed = try body(#"{"username":"kim","n":7,"flag":false}"#)
        XCTAssertEqual(try parsed.string("username"), "kim")
        XCTAssertEqual(try parsed.int("n"), 7)
        XCTAssertEqual(try parsed.optionalBool("flag"), false)
    }

    func testIntegerOrDigitsAcceptsAJSONInteger() throws {
        XCTAssertEqual(try body(#"{"amount":9900}"#).integerOrDigits("amount"), 9900)
    }

    func testIntegerOrDigitsAcceptsAStringOfDigits() throws {
        XCTAssertEqual(try body(#"{"amount":"9900"}"#).integerOrDigits("amount"), 9900)
        XCTAssertEqual(try body(#"{"amount":"0"}"#).integerOrDigits("amount"), 0)
        XCTAssertEqual(try body(#"{"amount":"999999999999999999"}"#).integerOrDigits("amount"), 999_999_999_999_999_999)
    }

    func testIntegerOrDigitsRejectsEverythingElse() {
        for (json, label) in [(#""9,900""#, "grouped digits"), (#""12a""#, "letters"), ("9.5", "a fraction"), ("9900.0", "a double"),
                              ("true", "a boolean"), (#""""#, "an empty string"), (#"" 9900""#, "a leading space"),
                              (#""9900 ""#, "a trailing space"), (#""-9900""#, "a signed string"), (#""+9900""#, "a plus sign"),
                              (#""1e4""#, "an exponent string"), (#""９９００""#, "full-width digits"), ("[9900]", "an array"),
                              (#"{"v":9900}"#, "an object"), (#""9999999999999999999""#, "19 digits (over Int)"),
                              (#""0000000000000000000000000000009900""#, "an oversize digit string")] {
            assertBadRequest("INVALID_FIELD", mentioning: "amount") {
                let value = try body(#"{"amount":\#(json)}"#).integerOrDigits("amount")
                XCTFail("\(label) \(json) was accepted as \(value)")
            }
        }
    }

    func testIntegerOrDigitsMissingOrNullIsMissing() {
        assertBadRequest("MISSING_FIELD", mentioning: "amount") { _ = try body("{}").integerOrDigits("amount") }
        assertBadRequest("MISSING_FIELD", mentioning: "amount") { _ = try body(#"{"amount":null}"#).integerOrDigits("amount") }
    }
}
