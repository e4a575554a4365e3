import XCTest
@testable import Web

final class CookiesTests: XCTestCase {
    func testParsesSeveralCookiesAndTrimsWhitespace() {
        let cookies = Cookies.parse("sessionid=abc123;  csrftoken=tok.sig ; theme=dark")
        XCTAssertEqual(cookies, ["sessionid": "abc123", "csrftoken": "tok.sig", "theme": "dark"])
    }

    func testFirstOccurrenceOfANameWins() {
        XCTAssertEqual(Cookies.parse("sessionid=first; sessionid=second")["sessionid"], "first")
    }

    func testValueMayContainEquals() {
        XCTAssertEqual(Cookies.parse("data=a=b==")["data"], "a=b==")
    }

    func testPiecesWithoutEqualsAreIgnored() {
        XCTAssertEqual(Cookies.parse("garbage; ;a=1;=;"), ["a": "1"])
    }

    func testEmptyHeaderHasNoCookies() {
        XCTAssertEqual(Cookies.parse(""), [:])
    }

    func testRequestReadsTheCookieHeader() {
        let request = HTTPRequest(method: "GET", path: "/", headers: ["cookie": "csrftoken=x; sessionid=y"])
        XCTAssertEqual(request.cookies["sessionid"], "y")
        XCTAssertEqual(request.cookies["csrftoken"], "x")
    }

    func testSetCookieHeaderCarriesFlags() {
        let cookie = SetCookie(name: "sessionid", value: "v", maxAge: 1209600, httpOnly: true, secure: true)
        XCTAssertEqual(cookie.headerValue, "sessionid=v; Path=/; Max-Age=1209600; HttpOnly; Secure; SameSite=Lax")
    }

    func testSetCookieWithoutSecureOrHttpOnly() {
        let cookie = SetCookie(name: "csrftoken", value: "t", httpOnly: false, secure: false)
        XCTAssertEqual(cookie.headerValue, "csrftoken=t; Path=/; SameSite=Lax")
    }

    func testExpiredCookieHasMaxAgeZeroAndEmptyValue() {
        XCTAssertEqual(SetCookie.expired("sessionid", secure: false).headerValue, "sessionid=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax")
    }
}
