import XCTest
@testable import Web

final class QueryParametersTests: XCTestCase {
    func testPlusDecodesToSpace() {
        let query = QueryParameters(parsing: "q=hello+world&name=%ED%99%8D+%EA%B8%B8%EB%8F%99")
        XCTAssertEqual(query["q"], "hello world")
        XCTAssertEqual(query["name"], "홍 길동")
    }

    func testPercentEscapesDecodeInNamesAndValues() {
        let query = QueryParameters(parsing: "a%20b=c%26d&e=%3D%2B%25")
        XCTAssertEqual(query["a b"], "c&d")
        XCTAssertEqual(query["e"], "=+%")
    }

    func testRepeatedKeysKeepEveryValueInOrderAndSubscriptTakesTheFirst() {
        let query = QueryParameters(parsing: "feature=a&x=1&feature=b&feature=c")
        XCTAssertEqual(query.all("feature"), ["a", "b", "c"])
        XCTAssertEqual(query["feature"], "a")
        XCTAssertEqual(query.all("missing"), [])
        XCTAssertNil(query["missing"])
    }

    func testMalformedEscapesAreKeptLiterally() {
        let query = QueryParameters(parsing: "a=%zz&b=%4&c=%&d=100%")
        XCTAssertEqual(query["a"], "%zz")
        XCTAssertEqual(query["b"], "%4")
        XCTAssertEqual(query["c"], "%")
        XCTAssertEqual(query["d"], "100%")
    }

    func testInvalidUTF8EscapesDoNotCrash() {
        let query = QueryParameters(parsing: "a=%FF%FE&b=ok")
        XCTAssertEqual(query["a"], "\u{FFFD}\u{FFFD}")
        XCTAssertEqual(query["b"], "ok")
    }

    func testNameWithoutValueAndEmptyPieces() {
        let query = QueryParameters(parsing: "&flag&&empty=&=v&")
        XCTAssertEqual(query.pairs.map(\.0), ["flag", "empty", ""])
        XCTAssertEqual(query["flag"], "")
        XCTAssertEqual(query["empty"], "")
        XCTAssertEqual(query[""], "v")
    }

    func testOnlyTheFirstEqualsSplits() {
        XCTAssertEqual(QueryParameters(parsing: "token=a=b==")["token"], "a=b==")
    }

    func testEmptyStringHasNoPairs() {
        XCTAssertTrue(QueryParameters(parsing: "").isEmpty)
    }

    func testEncodedRoundTrips() {
        let original = QueryParameters([("next", "/account?tab=1&x=y"), ("이름", "홍 길동+"), ("sym", "~-._!*'()")])
        let encoded = original.encoded
        XCTAssertFalse(encoded.contains(" "), encoded)
        XCTAssertFalse(encoded.contains("+"), "a literal + would decode as a space: \(encoded)")
        XCTAssertEqual(QueryParameters(parsing: encoded), original, encoded)
    }

    func testEncodeComponentLeavesOnlyUnreservedCharacters() {
        XCTAssertEqual(PercentEncoding.encodeComponent("a b/c?d=e&f"), "a%20b%2Fc%3Fd%3De%26f")
        XCTAssertEqual(PercentEncoding.encodeComponent("AZaz09-_.~"), "AZaz09-_.~")
        XCTAssertEqual(PercentEncoding.encodeComponent("원"), "%EC%9B%90")
    }

    func testPathDecodingKeepsPlus() {
        XCTAssertEqual(PercentEncoding.decode("/a+b%20c"), "/a+b c")
        XCTAssertEqual(PercentEncoding.decode("/a+b", plusAsSpace: true), "/a b")
    }

    func testFormBodyIsReadOnlyForURLEncodedContentType() {
        let body = Array("username=kim&password=p%40ss+word".utf8)
        let form = HTTPRequest(method: "POST", path: "/accounts/login",
                               headers: ["content-type": "application/x-www-form-urlencoded; charset=UTF-8"], body: body).form
        XCTAssertEqual(form["username"], "kim")
        XCTAssertEqual(form["password"], "p@ss word")
        let json = HTTPRequest(method: "POST", path: "/", headers: ["content-type": "application/json"], body: body).form
        XCTAssertTrue(json.isEmpty, "a JSON body must not be read as a form: \(json.pairs)")
    }
}
