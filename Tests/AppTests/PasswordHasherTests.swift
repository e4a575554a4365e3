import Foundation
import Storage
import Web
import XCTest

@testable import App

final class PasswordHasherTests: XCTestCase {
    /// Computed once with Python, the way Django does it:
    /// `"pbkdf2_sha256$600000$salt$" + base64(hashlib.pbkdf2_hmac("sha256", b"password", b"salt", 600000))`.
    static let djangoHash = "pbkdf2_sha256$600000$salt$Zpz+UkghFv2hqiy+QJsvVsjkVjdSt6KPbqq2FO4AUXg="

    func testVerifiesAHashMadeByDjango() {
        let hasher = PasswordHasher(iterations: 1000)
        XCTAssertTrue(hasher.verify("password", against: PasswordHasherTests.djangoHash))
        XCTAssertFalse(hasher.verify("Password", against: PasswordHasherTests.djangoHash))
        XCTAssertFalse(hasher.verify("password ", against: PasswordHasherTests.djangoHash))
    }

    func testProducesDjangosFormatByteForByte() {
        XCTAssertEqual(PasswordHasher().hash("password", salt: "salt"), PasswordHasherTests.djangoHash)
    }

    func testDefaultIterationsAreDjangosCurrentDefault() {
        XCTAssertEqual(PasswordHasher.defaultIterations, 600_000)
        XCTAssertEqual(PasswordHasher().iterations, 600_000)
    }

    func testHashThenVerifyRoundTripsWithAFreshSalt() {
        let hasher = PasswordHasher(iterations: 1000)
        let first = hasher.hash("비밀번호-🔑-secret")
        let second = hasher.hash("비밀번호-🔑-secret")
        XCTAssertNotEqual(first, second, "each hash gets its own salt")
        let parts = first.split(separator: "$", omittingEmptySubsequences: false)
        XCTAssertEqual(parts.count, 4, first)
        XCTAssertEqual(parts[0], "pbkdf2_sha256")
        XCTAssertEqual(parts[1], "1000")
        XCTAssertEqual(parts[2].count, 22, "salt: \(parts[2])")
        XCTAssertTrue(parts[2].allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) }, "salt alphabet: \(parts[2])")
        XCTAssertEqual(Data(base64Encoded: String(parts[3]))?.count, 32, "a 32-byte SHA-256 key in standard base64: \(parts[3])")
        XCTAssertTrue(hasher.verify("비밀번호-🔑-secret", against: first))
        XCTAssertTrue(hasher.verify("비밀번호-🔑-secret", against: second))
        XCTAssertFalse(hasher.verify("비밀번호-🔑-secreT", against: first))
    }

    func testVerificationUsesTheIterationsInTheHashNotTheHashers() {
        let old = PasswordHasher(iterations: 500).hash("password123")
        XCTAssertTrue(PasswordHasher(iterations: 2000).verify("password123", against: old))
    }

    func testNeedsRehashWhenIterationsRise() {
        let old = PasswordHasher(iterations: 1000).hash("x")
        XCTAssertTrue(PasswordHasher(iterations: 2000).needsRehash(old))
        XCTAssertFalse(PasswordHasher(iterations: 1000).needsRehash(old))
        XCTAssertFalse(PasswordHasher(iterations: 500).needsRehash(old), "a stronger hash is kept")
        XCTAssertTrue(PasswordHasher().needsRehash("pbkdf2_sha256$260000$salt$AAAA"), "Django 3.2's 260000 rounds are upgraded")
        XCTAssertFalse(PasswordHasher().needsRehash(PasswordHasherTests.djangoHash))
    }

    func testForeignOrBrokenHashesNeedRehashAndNeverVerify() {
        let hasher = PasswordHasher(iterations: 1000)
        for encoded in ["", "password", "pbkdf2_sha1$1000$salt$AAAA", "bcrypt_sha256$$2b$12$abc", "argon2$argon2id$v=19$m=102400",
                        "pbkdf2_sha256$abc$salt$Zpz+UkghFv2hqiy+QJsvVsjkVjdSt6KPbqq2FO4AUXg=",
                        "pbkdf2_sha256$0$salt$Zpz+UkghFv2hqiy+QJsvVsjkVjdSt6KPbqq2FO4AUXg=",
                        "pbkdf2_sha256$-5$salt$Zpz+UkghFv2hqiy+QJsvVsjkVjdSt6KPbqq2FO4AUXg=",
                        "pbkdf2_sha256$600000$salt$not base64!", "pbkdf2_sha256$600000$salt", "pbkdf2_sha256$600000$salt$hash$extra",
                        "!unusable-django-password"] {
            XCTAssertFalse(hasher.verify("password", against: encoded), "verified against \(encoded.debugDescription)")
        }
        XCTAssertTrue(hasher.needsRehash(""))
        XCTAssertTrue(hasher.needsRehash("bcrypt_sha256$$2b$12$abc"))
    }

    func testAbsurdIterationCountsAreRefusedQuickly() {
        let started = Date()
        XCTAssertFalse(PasswordHasher(iterations: 1000).verify("password", against: "pbkdf2_sha256$2000000000$salt$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="))
        XCTAssertLessThan(Date().timeIntervalSince(started), 2, "a stored hash must not be able to pin a thread for minutes")
    }

    func testEmptyPasswordHashesAndVerifies() {
        let hasher = PasswordHasher(iterations: 1000)
        let hash = hasher.hash("")
        XCTAssertTrue(hasher.verify("", against: hash))
        XCTAssertFalse(hasher.verify("x", against: hash))
        hasher.verifyDummy("")
    }

    func testSignInUpgradesAnOldHash() throws {
        let harness = try AppHarness(hasher: PasswordHasher(iterations: 1000))
        let browser = harness.browser()
        XCTAssertEqual(browser.signUp("upgrade", password: "password123").status, 201)
        let weak = PasswordHasher(iterations: 100).hash("password123")
        try harness.execute("UPDATE users SET password_hash = ?", [.text(weak)])
        XCTAssertEqual(browser.logIn("upgrade", password: "password123").status, 200)
        let stored = try harness.database.withConnection { try $0.queryOne("SELECT password_hash FROM users", []) }?.string("password_hash") ?? ""
        XCTAssertTrue(stored.hasPrefix("pbkdf2_sha256$1000$"), "after sign-in the hash is upgraded: \(stored)")
        XCTAssertTrue(PasswordHasher(iterations: 1000).verify("password123", against: stored))
    }

    func testImportedDjangoUserCanSignIn() throws {
        let harness = try AppHarness(hasher: PasswordHasher(iterations: 1000))
        try harness.execute("INSERT INTO users (id, username, username_key, email, password_hash, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                            [.text(UUID().uuidString.lowercased()), "django", "django", "", .text(PasswordHasherTests.djangoHash), 1])
        let browser = harness.browser()
        let response = browser.logIn("django", password: "password")
        XCTAssertEqual(response.status, 200, response.bodyText)
    }
}
