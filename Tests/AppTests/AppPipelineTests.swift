import Foundation
import Storage
import Web
import XCTest

@testable import App

/// `Application.respond` end to end in process: routing, error shapes, CSRF and the order of the checks.
final class AppPipelineTests: XCTestCase {
    private var harness: AppHarness!

    override func setUpWithError() throws { harness = try AppHarness() }
    override func tearDown() { harness = nil }

    // MARK: health, plans, errors

    func testHealthzAnswersOK() {
        let response = harness.browser().get("/healthz")
        XCTAssertEqual(response.status, 200, response.bodyText)
        XCTAssertEqual(response.parsedBody, ["status": "ok"])
        XCTAssertEqual(response.header("Content-Type"), "application/json; charset=utf-8")
    }

    func testHeadOnHealthzIsServedByTheGetRoute() {
        XCTAssertEqual(harness.browser().send("HEAD", "/healthz").status, 200)
    }

    func testPlansListTheSeededCatalogueInTheContractShape() throws {
        try harness.seedPlans()
        XCTAssertEqual(try DemoPlans.seed(database: harness.database, now: AppHarness.now), 0, "seeding twice inserts nothing")
        let response = harness.browser().get("/api/subscriptions/plans")
        XCTAssertEqual(response.status, 200, response.bodyText)
        guard let plans = response.parsedBody?.arrayValue else { return XCTFail("expected an array: \(response.bodyText)") }
        XCTAssertEqual(plans.count, 3, response.bodyText)
        for plan in plans {
            XCTAssertEqual(plan.objectValue?.keys, ["id", "name", "plan_type", "price", "currency", "billing_cycle", "features", "is_active"])
            let id = plan["id"]?.stringValue ?? ""
            XCTAssertNotNil(UUID(uuidString: id), "id must be a UUID: \(id)")
            XCTAssertEqual(id, id.lowercased())
            XCTAssertEqual(plan["currency"], "KRW")
            XCTAssertEqual(plan["is_active"], true)
            XCTAssertFalse(plan["features"]?.arrayValue?.isEmpty ?? true)
            XCTAssertTrue(plan["features"]?.arrayValue?.allSatisfy { $0.stringValue != nil } ?? false, "features are strings")
        }
        let summary = plans.map { "\($0["name"]?.stringValue ?? "") \($0["plan_type"]?.stringValue ?? "") \($0["price"]?.intValue ?? -1) \($0["billing_cycle"]?.stringValue ?? "")" }
        XCTAssertEqual(summary, ["베이직 BASIC 9900 MONTHLY", "프리미엄 PREMIUM 19900 MONTHLY", "엔터프라이즈 ENTERPRISE 199000 YEARLY"])
        XCTAssertNotNil(response.parsedBody?.arrayValue?.first?["price"]?.intValue, "price is a JSON integer, not a string or a double")
    }

    func testInactivePlansAreNotListed() throws {
        try harness.seedPlans()
        try harness.execute("UPDATE plans SET is_active = 0 WHERE plan_type = ?", ["PREMIUM"])
        let names = harness.browser().get("/api/subscriptions/plans").parsedBody?.arrayValue?.compactMap { $0["plan_type"]?.stringValue }
        XCTAssertEqual(names, ["BASIC", "ENTERPRISE"])
    }

    func testUnknownAPIRouteIs404JSON() {
        let response = harness.browser().get("/api/subscriptions/nope/nope/nope")
        assertErrorAnswer(response, 404, "NOT_FOUND")
    }

    func testUnknownRouteFromABrowserIsAn404HTMLPage() {
        let response = harness.browser().get("/no-such-page", headers: ["accept": "text/html,application/xhtml+xml"])
        XCTAssertEqual(response.status, 404)
        XCTAssertEqual(response.header("Content-Type"), "text/html; charset=utf-8")
        XCTAssertTrue(response.bodyText.contains("NOT_FOUND"), response.bodyText)
    }

    func testUnknownAPIRouteFromABrowserIsStillJSON() {
        let response = harness.browser().get("/api/nope", headers: ["accept": "text/html"])
        assertErrorAnswer(response, 404, "NOT_FOUND")
    }

    func testWrongMethodIs405JSONWithAllow() {
        let response = harness.browser().send("DELETE", "/api/subscriptions/plans")
        assertErrorAnswer(response, 405, "METHOD_NOT_ALLOWED")
        XCTAssertEqual(response.header("Allow"), "GET")
        let post = harness.browser().send("GET", "/api/auth/login")
        assertErrorAnswer(post, 405, "METHOD_NOT_ALLOWED")
        XCTAssertEqual(post.header("Allow"), "POST")
    }

    func testErrorsNeverLeakSQLOrInternals() {
        let browser = harness.browser()
        browser.fetchCSRF()
        for body in ["{", "[]", #"{"username": 5, "password": "x"}"#, String(repeating: "[", count: 10_000), "\u{0}"] {
            let response = browser.send("POST", "/api/auth/login", body: Array(body.utf8), contentType: "application/json")
            XCTAssertEqual(response.status, 400, "body \(body.prefix(20)): \(response.bodyText)")
            let text = response.bodyText.lowercased()
            XCTAssertFalse(text.contains("select") || text.contains("sqlite") || text.contains("insert"), response.bodyText)
        }
    }

    func testMalformedJSONIs400InvalidJSON() {
        let browser = harness.browser()
        browser.fetchCSRF()
        assertErrorAnswer(browser.send("POST", "/api/auth/signup", body: Array("{\"username\":".utf8), contentType: "application/json"), 400, "INVALID_JSON")
        assertErrorAnswer(browser.send("POST", "/api/auth/signup", body: [], contentType: "application/json"), 400, "INVALID_JSON")
    }

    // MARK: CSRF

    func testCSRFEndpointSetsAReadableCookieEqualToTheToken() {
        let browser = harness.browser()
        let response = browser.get("/api/auth/csrf")
        let cookie = TestBrowser.setCookie("csrftoken", in: response)
        XCTAssertNotNil(cookie, "csrftoken cookie: \(response.headers)")
        XCTAssertEqual(response.parsedBody?["csrf_token"]?.stringValue, cookie?.value)
        XCTAssertNil(cookie?.attributes["httponly"], "the seed's JS reads csrftoken; it must not be HttpOnly: \(cookie?.raw ?? "")")
        XCTAssertEqual(cookie?.attributes["samesite"], "Lax")
        XCTAssertNil(cookie?.attributes["secure"], "no Secure over plain HTTP: \(cookie?.raw ?? "")")
        XCTAssertNil(TestBrowser.setCookie("csrftoken", in: browser.get("/api/auth/csrf")), "an existing valid token is kept, not reissued")
    }

    func testCSRFCookieIsSecureOverHTTPS() {
        let cookie = TestBrowser.setCookie("csrftoken", in: harness.browser(https: true).get("/api/auth/csrf"))
        XCTAssertNotNil(cookie?.attributes["secure"], cookie?.raw ?? "no cookie")
    }

    func testUnsafeMethodWithoutTokenIs403() {
        let browser = harness.browser()
        assertErrorAnswer(browser.postJSON("/api/auth/signup", ["username": "alice", "password": "password123"]), 403, "CSRF_FAILED")
        XCTAssertEqual(try harness.count("SELECT COUNT(*) AS n FROM users"), 0, "a refused request must not act")
    }

    func testCookieWithoutHeaderIs403() {
        let browser = harness.browser()
        browser.fetchCSRF()
        assertErrorAnswer(browser.postJSON("/api/auth/signup", ["username": "alice", "password": "password123"], withCSRF: false), 403, "CSRF_FAILED")
    }

    func testHeaderWithoutCookieIs403() {
        let browser = harness.browser()
        browser.fetchCSRF()
        let token = browser.csrfToken!
        browser.cookies = [:]
        let response = browser.postJSON("/api/auth/signup", ["username": "alice", "password": "password123"], headers: ["x-csrftoken": token])
        assertErrorAnswer(response, 403, "CSRF_FAILED")
    }

    func testMatchingCookieAndHeaderPass() {
        let browser = harness.browser()
        browser.fetchCSRF()
        let response = browser.postJSON("/api/auth/signup", ["username": "alice", "password": "password123"])
        XCTAssertEqual(response.status, 201, response.bodyText)
    }

    func testHeaderThatDoesNotMatchTheCookieIs403() {
        let browser = harness.browser()
        browser.fetchCSRF()
        let other = harness.browser()
        other.fetchCSRF()
        XCTAssertNotEqual(browser.csrfToken, other.csrfToken)
        let response = browser.postJSON("/api/auth/signup", ["username": "alice", "password": "password123"], headers: ["x-csrftoken": other.csrfToken!])
        assertErrorAnswer(response, 403, "CSRF_FAILED")
    }

    func testTokenNotSignedByThisSecretIs403EvenWhenCookieAndHeaderMatch() throws {
        let foreign = try AppHarness(secret: "a-completely-different-secret-key-0123456789")
        let stranger = foreign.browser()
        stranger.fetchCSRF()
        let forged = stranger.csrfToken!
        for token in [forged, "abc.def", "plainrandomvalue", String(repeating: "A", count: 64) + "." + String(repeating: "B", count: 24), ".", ""] {
            let browser = harness.browser()
            browser.cookies["csrftoken"] = token
            let response = browser.postJSON("/api/auth/signup", ["username": "mallory", "password": "password123"], headers: ["x-csrftoken": token])
            assertErrorAnswer(response, 403, "CSRF_FAILED")
        }
    }

    func testForgedCookieIsReplacedWithAFreshSignedToken() {
        let browser = harness.browser()
        browser.cookies["csrftoken"] = "attacker.chosen"
        let response = browser.get("/api/auth/csrf")
        let issued = response.parsedBody?["csrf_token"]?.stringValue
        XCTAssertNotEqual(issued, "attacker.chosen", "a token that is not ours must not be echoed back")
        XCTAssertEqual(TestBrowser.setCookie("csrftoken", in: response)?.value, issued)
    }

    func testFormFieldTokenIsAccepted() {
        let browser = harness.browser()
        browser.fetchCSRF()
        let response = browser.postForm("/accounts/signup", [("username", "formuser"), ("password", "password123"), ("password_confirm", "password123")])
        XCTAssertEqual(response.status, 303, response.bodyText)
        XCTAssertEqual(try harness.count("SELECT COUNT(*) AS n FROM users WHERE username = ?", ["formuser"]), 1)
    }

    func testFormWithoutTokenIs403Page() {
        let browser = harness.browser()
        browser.fetchCSRF()
        let response = browser.postForm("/accounts/login", [("username", "x"), ("password", "y")], includeFormToken: false)
        XCTAssertEqual(response.status, 403, response.bodyText)
        XCTAssertTrue(response.bodyText.contains("CSRF_FAILED"), response.bodyText)
    }

    func testLoginItselfNeedsCSRF() {
        let browser = harness.browser()
        browser.signUp("victim")
        let attacker = harness.browser()
        assertErrorAnswer(attacker.postJSON("/api/auth/login", ["username": "victim", "password": "correct-horse"]), 403, "CSRF_FAILED")
    }

    func testWebhookIsExemptFromCSRF() {
        let response = harness.browser().send("POST", "/api/webhooks/toss", body: Array("not json".utf8), contentType: "application/json")
        assertErrorAnswer(response, 400, "INVALID_JSON")
    }

    // MARK: authentication before CSRF

    func testSignedInAPIRouteWithoutSessionIs401BeforeCSRF() {
        let browser = harness.browser()
        assertErrorAnswer(browser.postJSON("/api/subscriptions/subscribe", ["plan_id": "x"], withCSRF: false), 401, "NOT_AUTHENTICATED")
        browser.fetchCSRF()
        assertErrorAnswer(browser.postJSON("/api/subscriptions/subscribe", ["plan_id": "x"]), 401, "NOT_AUTHENTICATED")
        assertErrorAnswer(browser.get("/api/subscriptions/my-subscriptions"), 401, "NOT_AUTHENTICATED")
        assertErrorAnswer(browser.get("/api/auth/me"), 401, "NOT_AUTHENTICATED")
    }

    func testSignedInPageWithoutSessionRedirectsToLoginWithNext() {
        let response = harness.browser().get("/account?tab=payments", headers: ["accept": "text/html"])
        XCTAssertEqual(response.status, 302, response.bodyText)
        XCTAssertEqual(response.header("Location"), "/accounts/login?next=%2Faccount%3Ftab%3Dpayments")
    }

    func testSignedInUserStillNeedsCSRF() {
        let browser = harness.browser()
        browser.signUp("carol")
        XCTAssertEqual(browser.logIn("carol").status, 200)
        assertErrorAnswer(browser.postJSON("/api/subscriptions/subscribe", ["plan_id": "x"], withCSRF: false), 403, "CSRF_FAILED")
    }

    func testStaffRoutesAreNotFoundForOrdinaryUsers() {
        let browser = harness.browser()
        browser.signUp("dave")
        browser.logIn("dave")
        assertErrorAnswer(browser.get("/api/admin/dashboard"), 404, "NOT_FOUND")
    }
}
