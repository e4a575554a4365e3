import Foundation
import Web
import XCTest

@testable import App

/// `next=` after sign-in may only lead to a path on this site.
final class LoginRedirectTests: XCTestCase {
    private var harness: AppHarness!
    private var browser: TestBrowser!

    override func setUpWithError() throws {
        harness = try AppHarness()
        browser = harness.browser()
        XCTAssertEqual(browser.signUp("redirect").status, 201)
    }

    override func tearDown() {
        browser = nil
        harness = nil
    }

    private func locationAfterFormLogin(next: String, file: StaticString = #filePath, line: UInt = #line) -> String? {
        browser.cookies["sessionid"] = nil
        let response = browser.postForm("/accounts/login", [("username", "redirect"), ("password", "correct-horse"), ("next", next)])
        XCTAssertEqual(response.status, 303, "next=\(next.debugDescription): \(response.bodyText.prefix(300))", file: file, line: line)
        return response.header("Location")
    }

    static let hostile = ["//evil.com", "//evil.com/account", "https://evil.com", "http://evil.com/", "/\\evil.com", "\\\\evil.com", "/\\/evil.com",
                          "javascript:alert(1)", "evil.com", "", " //evil.com", "/\r\nSet-Cookie: x=y", "data:text/html,hi", "///evil.com"]

    func testOpenRedirectAttemptsAfterFormLoginGoHome() {
        for next in LoginRedirectTests.hostile {
            XCTAssertEqual(locationAfterFormLogin(next: next), "/", "next=\(next.debugDescription)")
        }
    }

    func testOpenRedirectAttemptsInTheQueryOfASignedInVisitGoHome() {
        browser.logIn("redirect")
        for next in LoginRedirectTests.hostile {
            let response = browser.get("/accounts/login?next=" + PercentEncoding.encodeComponent(next), headers: ["accept": "text/html"])
            XCTAssertEqual(response.status, 303, "next=\(next.debugDescription)")
            XCTAssertEqual(response.header("Location"), "/", "next=\(next.debugDescription)")
        }
    }

    func testSameSitePathsAreFollowed() {
        XCTAssertEqual(locationAfterFormLogin(next: "/account"), "/account")
        XCTAssertEqual(locationAfterFormLogin(next: "/checkout/abc?x=1&y=2"), "/checkout/abc?x=1&y=2")
    }

    func testFormLoginSetsTheSessionCookie() {
        _ = locationAfterFormLogin(next: "/account")
        XCTAssertNotNil(browser.cookies["sessionid"])
        XCTAssertEqual(browser.get("/api/auth/me").status, 200)
    }

    /// Browsers strip ASCII tab and newline from URLs (WHATWG URL parser), so `Location: /<TAB>/evil.com` would be
    /// followed as `//evil.com` — an open redirect.
    func testTabInsideNextCannotMakeAProtocolRelativeRedirect() {
        for next in ["/\t/evil.com", "/\t\t/evil.com"] {
            let location = locationAfterFormLogin(next: next)
            XCTAssertEqual(location, "/", "next=\(next.debugDescription) redirected to \(location.debugDescription), which browsers read as //evil.com")
        }
    }

    func testNextIsEscapedInTheLoginForm() {
        let response = browser.get("/accounts/login?next=" + PercentEncoding.encodeComponent("/\"><script>alert(1)</script>"), headers: ["accept": "text/html"])
        XCTAssertEqual(response.status, 200)
        XCTAssertFalse(response.bodyText.contains("<script>alert(1)"), "next is reflected unescaped")
        XCTAssertTrue(response.bodyText.contains("&quot;&gt;&lt;script&gt;"), "the escaped value is kept")
    }
}
