import XCTest
@testable import Web

final class JSONSerializerTests: XCTestCase {
    private func assertRoundTrips(_ value: JSON, file: StaticString = #filePath, line: UInt = #line) {
        let text = value.serializedString()
        do {
            let back = try JSON.parse(text)
            XCTAssertEqual(back, value, "round trip through \(text)", file: file, line: line)
        } catch {
            XCTFail("serialised \(value) as \(text), which does not parse: \(error.message) at \(error.offset)", file: file, line: line)
        }
    }

    func testSerializesCompactlyInInsertionOrder() {
        let value: JSON = ["status": "ok", "count": 3, "items": [1, "two", nil, true], "nested": ["z": false, "a": 1]]
        XCTAssertEqual(value.serializedString(), #"{"status":"ok","count":3,"items":[1,"two",null,true],"nested":{"z":false,"a":1}}"#)
    }

    func testRoundTripsEveryKind() {
        assertRoundTrips(.null)
        assertRoundTrips(.bool(false))
        assertRoundTrips(.int(0))
        assertRoundTrips(.int(Int.max))
        assertRoundTrips(.int(Int.min))
        assertRoundTrips(.double(9.5))
        assertRoundTrips(.double(-0.001))
        assertRoundTrips(.double(1e300))
        assertRoundTrips(.double(Double.leastNonzeroMagnitude))
        assertRoundTrips(.double(9900))
        assertRoundTrips(.string(""))
        assertRoundTrips(.array([]))
        assertRoundTrips(.object(JSONObject()))
        assertRoundTrips(["plan": ["name": "프리미엄", "price": 19900, "features": ["팀원 20명", "우선 지원"]], "is_active": true])
    }

    func testDoubleWithIntegralValueStaysADouble() {
        let text = JSON.double(9900).serializedString()
        XCTAssertEqual(try? JSON.parse(text), .double(9900), "9900.0 serialised as \(text)")
    }

    func testRoundTripsAwkwardStrings() {
        for text in ["quote \" backslash \\ slash /", "line\nfeed\r\ttab", "\u{0}\u{1}\u{1F}\u{7F}", "한국어 텍스트", "emoji 😀 𝄞",
                     "\u{2028}\u{2029}", "</script><script>alert(1)</script>", "<!--", "&amp; 'single'"] {
            assertRoundTrips(.string(text))
            assertRoundTrips(.object(JSONObject([(text, .string(text))])))
        }
    }

    func testLessThanIsEscapedSoJSONCannotCloseAScriptElement() {
        let text = JSON.string("</script><b>").serializedString()
        XCTAssertFalse(text.contains("<"), text)
        XCTAssertEqual(text, #""\u003c/script>\u003cb>""#)
    }

    func testKeysAreEscapedToo() {
        let text = JSON.object(JSONObject([("<k\"", .int(1))])).serializedString()
        XCTAssertEqual(text, #"{"\u003ck\"":1}"#)
    }

    func testControlCharactersUseShortOrUnicodeEscapes() {
        XCTAssertEqual(JSON.string("a\nb\tc\rd\u{1}e\u{1F}").serializedString(), #""a\nb\tc\rd\u0001e\u001f""#)
    }

    func testNonFiniteDoublesBecomeNull() {
        XCTAssertEqual(JSON.array([.double(.nan), .double(.infinity), .double(-.infinity)]).serializedString(), "[null,null,null]")
    }

    func testObjectSubscriptSetReplacesInPlaceAndNilRemoves() {
        var object: JSONObject = ["a": 1, "b": 2, "c": 3]
        object["b"] = "two"
        object["a"] = nil
        object["d"] = 4
        XCTAssertEqual(JSON.object(object).serializedString(), #"{"b":"two","c":3,"d":4}"#)
    }

    func testObjectEqualityIsOrderSensitive() {
        XCTAssertNotEqual(JSON.object(["a": 1, "b": 2]), JSON.object(["b": 2, "a": 1]))
        XCTAssertEqual(JSON.object(["a": 1, "b": 2]), JSON.object(["a": 1, "b": 2]))
    }

    func testHTTPErrorResponseIsTheContractShape() throws {
        let response = HTTPError.conflict("이미 사용 중인 아이디입니다.", code: "USERNAME_TAKEN").response
        XCTAssertEqual(response.status, 409)
        XCTAssertEqual(response.header("content-type"), "application/json; charset=utf-8")
        let body = try JSON.parse(response.body)
        XCTAssertEqual(body.objectValue?.keys, ["message", "code"])
        XCTAssertEqual(body["code"], "USERNAME_TAKEN")
        XCTAssertEqual(body["message"], "이미 사용 중인 아이디입니다.")
    }

    func testHTTPErrorHeadersAreCopiedToTheResponse() {
        let error = HTTPError(429, code: "TOO_MANY_ATTEMPTS", message: "wait", headers: ["Retry-After": "60"])
        XCTAssertEqual(error.response.header("Retry-After"), "60")
    }
}
