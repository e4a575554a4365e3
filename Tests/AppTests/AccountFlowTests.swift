import Crypto
import Foundation
import Storage
import Web
import XCTest

@testable import App

/// Sign-up rules, sessions and their cookies, throttling — through `Application.respond`.
final class AccountFlowTests: XCTestCase {
    private var harness: AppHarness!

    override func setUpWithError() throws { harness = try AppHarness() }
    override func tearDown() { harness = nil }

    // MARK: sign-up rules

    func testValidUsernamesAreAccepted() {
        let browser = harness.browser()
        for username in ["abc", "user.name+tag@example_1-2", String(repeating: "a", count: 150), "XYZ", "a.b", "___", "1@2"] {
            let response = browser.signUp(username, password: "password123")
            XCTAssertEqual(response.status, 201, "\(username): \(response.bodyText)")
        }
    }

    func testInvalidUsernamesAre400() {
        let browser = harness.browser()
        for username in ["", "ab", String(repeating: "a", count: 151), "has space", "한글이름", "semi;colon", "a/b", "quote'", "tab\tname",
                         "new\nline", "emoji😀x", "<script>", "percent%", "comma,name"] {
            let response = browser.signUp(username, password: "password123")
            assertErrorAnswer(response, 400, "VALIDATION_ERROR")
        }
        XCTAssertEqual(try harness.count("SELECT COUNT(*) AS n FROM users"), 0)
    }

    func testPasswordMustHaveEightCharacters() {
        let browser = harness.browser()
        assertErrorAnswer(browser.signUp("shortpw", password: "1234567"), 400, "VALIDATION_ERROR")
        assertErrorAnswer(browser.signUp("emptypw", password: ""), 400, "VALIDATION_ERROR")
        XCTAssertEqual(browser.signUp("eightpw", password: "12345678").status, 201)
    }

    func testInvalidEmailIs400() {
        let browser = harness.browser()
        for email in ["not-an-email", "a@b", "@example.com", "a@.com", "a b@example.com", "a@example.com."] {
            assertErrorAnswer(browser.signUp("emailuser", password: "password123", email: email), 400, "VALIDATION_ERROR")
        }
        XCTAssertEqual(browser.signUp("emailuser", password: "password123", email: "kim@example.co.kr").status, 201)
    }

    func testMissingOrMistypedFieldsAre400NamingTheField() {
        let browser = harness.browser()
        browser.fetchCSRF()
        let missing = browser.postJSON("/api/auth/signup", ["password": "password123"])
        assertErrorAnswer(missing, 400, "MISSING_FIELD")
        XCTAssertTrue(missing.parsedBody?["message"]?.stringValue?.contains("username") ?? false, missing.bodyText)
        let mistyped = browser.postJSON("/api/auth/signup", ["username": "typed", "password": 12345678])
        assertErrorAnswer(mistyped, 400, "INVALID_FIELD")
        XCTAssertTrue(mistyped.parsedBody?["message"]?.stringValue?.contains("password") ?? false, mistyped.bodyText)
    }

    func testSignupAnswers201WithTheUserAndNoSecrets() throws {
        let response = harness.browser().signUp("alice", password: "password123", email: "alice@example.com")
        XCTAssertEqual(response.status, 201, response.bodyText)
        let user = try XCTUnwrap(response.parsedBody)
        XCTAssertEqual(user.objectValue?.keys, ["id", "username", "email", "is_staff"])
        XCTAssertEqual(user["username"], "alice")
        XCTAssertEqual(user["email"], "alice@example.com")
        XCTAssertEqual(user["is_staff"], false)
        XCTAssertNotNil(UUID(uuidString: user["id"]?.stringValue ?? ""))
        XCTAssertFalse(response.bodyText.contains("pbkdf2"), response.bodyText)
        let stored = try harness.database.withConnection { try $0.queryOne("SELECT password_hash FROM users WHERE username = ?", ["alice"]) }
        XCTAssertTrue(stored?.string("password_hash").hasPrefix("pbkdf2_sha256$1000$") ?? false, "stored: \(stored?.string("password_hash") ?? "")")
        XCTAssertFalse(stored?.string("password_hash").contains("password123") ?? true)
    }

    func testDuplicateUsernameInAnotherCaseIs409() {
        let browser = harness.browser()
        XCTAssertEqual(browser.signUp("Alice").status, 201)
        assertErrorAnswer(browser.signUp("alice"), 409, "USERNAME_TAKEN")
        assertErrorAnswer(browser.signUp("ALICE"), 409, "USERNAME_TAKEN")
        assertErrorAnswer(browser.signUp("Alice"), 409, "USERNAME_TAKEN")
    }

    func testConcurrentSignupsOfOneNameCreateOneUser() throws {
        let statuses = Locked<[Int]>([])
        let harness = self.harness!
        let tokens = (0..<8).map { _ -> (String) in
            let browser = harness.browser()
            browser.fetchCSRF()
            return browser.csrfToken!
        }
        DispatchQueue.concurrentPerform(iterations: 8) { index in
            let browser = harness.browser()
            browser.cookies["csrftoken"] = tokens[index]
            let status = browser.postJSON("/api/auth/signup", ["username": index % 2 == 0 ? "race" : "RACE", "password": "password123"]).status
            statuses.withValue { $0.append(status) }
        }
        XCTAssertEqual(statuses.current.filter { $0 == 201 }.count, 1, "statuses: \(statuses.current)")
        XCTAssertEqual(statuses.current.filter { $0 == 409 }.count, 7, "statuses: \(statuses.current)")
    }

    // MARK: login, me, logout

    func testLoginSetsAnHttpOnlyLaxSessionCookieWithoutSecureOverHTTP() throws {
        let browser = harness.browser()
        browser.signUp("bob")
        let response = browser.logIn("bob")
        XCTAssertEqual(response.status, 200, response.bodyText)
        XCTAssertEqual(response.parsedBody?["username"], "bob")
        let cookie = try XCTUnwrap(TestBrowser.setCookie("sessionid", in: response), "no sessionid cookie: \(response.headers)")
        XCTAssertGreaterThanOrEqual(cookie.value.count, 40, "a session id with 32 random bytes: \(cookie.value)")
        XCTAssertNotNil(cookie.attributes["httponly"], cookie.raw)
        XCTAssertEqual(cookie.attributes["samesite"], "Lax", cookie.raw)
        XCTAssertEqual(cookie.attributes["path"], "/", cookie.raw)
        XCTAssertNil(cookie.attributes["secure"], "no Secure over plain HTTP: \(cookie.raw)")
        XCTAssertEqual(cookie.attributes["max-age"], String(14 * 24 * 3600), cookie.raw)
    }

    func testSessionCookieIsSecureOverHTTPS() throws {
        let browser = harness.browser(https: true)
        browser.signUp("bob")
        let cookie = try XCTUnwrap(TestBrowser.setCookie("sessionid", in: browser.logIn("bob")))
        XCTAssertNotNil(cookie.attributes["secure"], cookie.raw)
        XCTAssertNotNil(cookie.attributes["httponly"], cookie.raw)
    }

    func testSessionCookieIsAlwaysSecureInProduction() throws {
        let production = try AppHarness(environment: ["GUDOK_ENV": "production", "TOSS_SECRET_KEY": "live_sk_realkey", "TOSS_CLIENT_KEY": "live_ck_realkey"])
        let browser = production.browser(https: false)
        browser.signUp("prod")
        let cookie = try XCTUnwrap(TestBrowser.setCookie("sessionid", in: browser.logIn("prod")))
        XCTAssertNotNil(cookie.attributes["secure"], cookie.raw)
    }

    func testMeAnswersTheSignedInUser() {
        let browser = harness.browser()
        browser.signUp("erin", email: "erin@example.com")
        browser.logIn("erin")
        let me = browser.get("/api/auth/me")
        XCTAssertEqual(me.status, 200, me.bodyText)
        XCTAssertEqual(me.parsedBody?.objectValue?.keys, ["id", "username", "email", "is_staff"])
        XCTAssertEqual(me.parsedBody?["username"], "erin")
        XCTAssertEqual(me.parsedBody?["email"], "erin@example.com")
    }

    func testLoginIsCaseInsensitiveOnTheUsername() {
        let browser = harness.browser()
        browser.signUp("Frank")
        XCTAssertEqual(browser.logIn("fRANK").status, 200)
    }

    func testWrongPasswordAndUnknownUserGetTheSameAnswer() {
        let browser = harness.browser()
        browser.signUp("grace")
        let wrong = browser.logIn("grace", password: "wrong-password")
        let unknown = browser.logIn("nobody-here", password: "wrong-password")
        assertErrorAnswer(wrong, 401, "INVALID_CREDENTIALS")
        assertErrorAnswer(unknown, 401, "INVALID_CREDENTIALS")
        XCTAssertEqual(wrong.bodyText, unknown.bodyText)
        XCTAssertNil(TestBrowser.setCookie("sessionid", in: wrong))
    }

    func testEmptyPasswordIsRefusedNotCrashing() {
        let browser = harness.browser()
        browser.signUp("heidi")
        assertErrorAnswer(browser.logIn("heidi", password: ""), 401, "INVALID_CREDENTIALS")
        assertErrorAnswer(browser.logIn("", password: ""), 401, "INVALID_CREDENTIALS")
    }

    func testLogoutEndsTheSessionServerSide() throws {
        let browser = harness.browser()
        browser.signUp("ivan")
        browser.logIn("ivan")
        let session = try XCTUnwrap(browser.cookies["sessionid"])
        let logout = browser.postJSON("/api/auth/logout", [:])
        XCTAssertEqual(logout.status, 204, logout.bodyText)
        let expired = TestBrowser.setCookie("sessionid", in: logout)
        XCTAssertEqual(expired?.value, "", expired?.raw ?? "no cookie")
        XCTAssertEqual(expired?.attributes["max-age"], "0", expired?.raw ?? "no cookie")
        XCTAssertEqual(try harness.count("SELECT COUNT(*) AS n FROM sessions"), 0)
        // Replaying the old cookie does not bring the session back.
        browser.cookies["sessionid"] = session
        assertErrorAnswer(browser.get("/api/auth/me"), 401, "NOT_AUTHENTICATED")
    }

    func testLogoutNeedsCSRF() {
        let browser = harness.browser()
        browser.signUp("judy")
        browser.logIn("judy")
        assertErrorAnswer(browser.postJSON("/api/auth/logout", [:], withCSRF: false), 403, "CSRF_FAILED")
        XCTAssertEqual(browser.get("/api/auth/me").status, 200, "a refused logout leaves the session alone")
    }

    func testLoggingInAgainRotatesTheSession() throws {
        let browser = harness.browser()
        browser.signUp("kate")
        browser.logIn("kate")
        let first = try XCTUnwrap(browser.cookies["sessionid"])
        browser.logIn("kate")
        let second = try XCTUnwrap(browser.cookies["sessionid"])
        XCTAssertNotEqual(first, second)
        XCTAssertEqual(try harness.count("SELECT COUNT(*) AS n FROM sessions"), 1, "the old session is deleted on a new sign-in")
        browser.cookies["sessionid"] = first
        assertErrorAnswer(browser.get("/api/auth/me"), 401, "NOT_AUTHENTICATED")
    }

    func testSessionsAreStoredOnlyAsHashes() throws {
        let browser = harness.browser()
        browser.signUp("leo")
        browser.logIn("leo")
        let session = try XCTUnwrap(browser.cookies["sessionid"])
        XCTAssertEqual(try harness.count("SELECT COUNT(*) AS n FROM sessions WHERE id_hash = ?", [.text(session)]), 0, "the raw id is not stored")
        XCTAssertEqual(try harness.count("SELECT COUNT(*) AS n FROM sessions WHERE id_hash = ?", [.text(Crypto.hex(Crypto.sha256(Array(session.utf8))))]), 1)
    }

    func testDeletedSessionIsRefused() {
        let browser = harness.browser()
        browser.signUp("mia")
        browser.logIn("mia")
        XCTAssertEqual(browser.get("/api/auth/me").status, 200)
        XCTAssertNoThrow(try harness.execute("DELETE FROM sessions"))
        assertErrorAnswer(browser.get("/api/auth/me"), 401, "NOT_AUTHENTICATED")
    }

    func testExpiredSessionIsRefused() {
        let browser = harness.browser()
        browser.signUp("nick")
        browser.logIn("nick")
        // In the past for the real clock and for the harness's fixed clock alike.
        let past = Int64(min(Date(), AppHarness.now).timeIntervalSince1970) - 1
        XCTAssertNoThrow(try harness.execute("UPDATE sessions SET expires_at = ?", [.int(past)]))
        assertErrorAnswer(browser.get("/api/auth/me"), 401, "NOT_AUTHENTICATED")
    }

    func testDeactivatedUsersSessionIsRefused() {
        let browser = harness.browser()
        browser.signUp("olga")
        browser.logIn("olga")
        XCTAssertNoThrow(try harness.execute("UPDATE users SET is_active = 0"))
        assertErrorAnswer(browser.get("/api/auth/me"), 401, "NOT_AUTHENTICATED")
        assertErrorAnswer(browser.logIn("olga"), 401, "INVALID_CREDENTIALS")
    }

    func testMadeUpSessionIDsAreRefused() {
        for id in ["made-up", Crypto.randomToken(), String(repeating: "x", count: 5000), "' OR 1=1 --"] {
            let browser = harness.browser()
            browser.cookies["sessionid"] = id
            assertErrorAnswer(browser.get("/api/auth/me"), 401, "NOT_AUTHENTICATED")
        }
    }

    // MARK: throttling

    func testRepeatedFailuresForOneUsernameAreThrottledWithRetryAfter() throws {
        let browser = harness.browser()
        browser.signUp("pat")
        for attempt in 1...5 {
            assertErrorAnswer(browser.logIn("pat", password: "wrong-\(attempt)"), 401, "INVALID_CREDENTIALS")
        }
        let throttled = browser.logIn("pat", password: "wrong-6")
        assertErrorAnswer(throttled, 429, "TOO_MANY_ATTEMPTS")
        let retryAfter = try XCTUnwrap(throttled.header("Retry-After").flatMap(Int.init), "Retry-After: \(throttled.headers)")
        XCTAssertTrue((1...900).contains(retryAfter), "Retry-After \(retryAfter) must be within the 15-minute window")
        assertErrorAnswer(browser.logIn("pat"), 429, "TOO_MANY_ATTEMPTS")
        assertErrorAnswer(browser.logIn("PAT"), 429, "TOO_MANY_ATTEMPTS")
    }

    func testThrottleIsPerUsername() {
        let browser = harness.browser()
        browser.signUp("quinn")
        browser.signUp("rose")
        for _ in 1...5 { browser.logIn("quinn", password: "nope-nope") }
        assertErrorAnswer(browser.logIn("quinn"), 429, "TOO_MANY_ATTEMPTS")
        XCTAssertEqual(browser.logIn("rose").status, 200, "another account from the same address is not locked by five failures")
    }

    func testSuccessfulLoginClearsTheUsernameCounter() {
        let browser = harness.browser()
        browser.signUp("sam")
        for _ in 1...4 { browser.logIn("sam", password: "nope-nope") }
        XCTAssertEqual(browser.logIn("sam").status, 200)
        for _ in 1...4 { browser.logIn("sam", password: "nope-nope") }
        XCTAssertEqual(browser.logIn("sam").status, 200, "failures before a success do not count")
    }

    func testManyFailuresFromOneAddressAreThrottled() {
        let browser = harness.browser(address: "198.51.100.9")
        browser.signUp("tina")
        for index in 0..<20 { browser.logIn("ghost\(index)", password: "nope-nope") }
        assertErrorAnswer(browser.logIn("tina"), 429, "TOO_MANY_ATTEMPTS")
        let elsewhere = harness.browser(address: "203.0.113.1")
        XCTAssertEqual(elsewhere.logIn("tina").status, 200, "another address is not throttled")
    }

    func testThrottledLoginPageShowsTheFormWith429AndRetryAfter() {
        let browser = harness.browser()
        browser.signUp("uma")
        for _ in 1...5 { browser.logIn("uma", password: "nope-nope") }
        let response = browser.postForm("/accounts/login", [("username", "uma"), ("password", "correct-horse")])
        XCTAssertEqual(response.status, 429, response.bodyText)
        XCTAssertNotNil(response.header("Retry-After"))
        XCTAssertEqual(response.header("Content-Type"), "text/html; charset=utf-8")
    }
}

/// A lock-protected value shared by the threads of one test.
final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) { self.value = value }

    func withValue<T>(_ body: (inout Value) throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }

    var current: Value { withValue { $0 } }
}
