import Crypto
import Foundation
import Storage
import Web

/// Server-side sessions. The cookie carries a random 32-byte id; the table keeps only its SHA-256, so a database
/// leak hands out no live sessions.
struct SessionStore {
    static let cookieName = "sessionid"
    static let lifetime: TimeInterval = 14 * 24 * 3600

    let connection: DatabaseConnection

    static func hash(_ id: String) -> String { Crypto.hex(Crypto.sha256(Array(id.utf8))) }

    func create(userID: String, now: Date) throws -> String {
        let id = Crypto.randomToken(bytes: 32)
        try connection.execute("INSERT INTO sessions (id_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
                               [.text(SessionStore.hash(id)), .text(userID), .int(now.unixSeconds),
                                .int(now.addingTimeInterval(SessionStore.lifetime).unixSeconds)])
        return id
    }

    func user(sessionID: String, now: Date) throws -> User? {
        guard sessionID.utf8.count <= 100 else { return nil }
        let row = try connection.queryOne(
            """
            SELECT users.* FROM sessions JOIN users ON users.id = sessions.user_id
            WHERE sessions.id_hash = ? AND sessions.expires_at > ? AND users.is_active = 1
            """,
            [.text(SessionStore.hash(sessionID)), .int(now.unixSeconds)])
        return row.map(User.init(row:))
    }

    func delete(sessionID: String) throws {
        try connection.execute("DELETE FROM sessions WHERE id_hash = ?", [.text(SessionStore.hash(sessionID))])
    }
}

/// Django's double-submit CSRF convention: cookie `csrftoken` must equal header `X-CSRFToken` or form field
/// `csrfmiddlewaretoken`. Tokens are random and signed with the secret key, so a forged cookie alone is refused too.
struct CSRF {
    static let cookieName = "csrftoken"
    static let headerName = "x-csrftoken"
    static let formField = "csrfmiddlewaretoken"

    let key: [UInt8]

    func makeToken() -> String {
        let nonce = Crypto.randomToken(bytes: 24)
        return nonce + "." + signature(nonce)
    }

    func isWellFormed(_ token: String) -> Bool {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].utf8.count <= 64 else { return false }
        return Crypto.constantTimeEquals(Array(signature(String(parts[0])).utf8), Array(parts[1].utf8))
    }

    func accepts(_ request: HTTPRequest) -> Bool {
        guard let cookie = request.cookies[CSRF.cookieName], isWellFormed(cookie) else { return false }
        let submitted = request.header(CSRF.headerName) ?? request.form[CSRF.formField]
        guard let submitted else { return false }
        return Crypto.constantTimeEquals(Array(submitted.utf8), Array(cookie.utf8))
    }

    private func signature(_ nonce: String) -> String {
        Crypto.base64URL(Array(Crypto.hmacSHA256(key: key, message: Array(("csrf:" + nonce).utf8)).prefix(18)))
    }
}

/// Counts failed logins per username and per client address in the database, so every responder sees them.
struct LoginThrottle {
    static let window: TimeInterval = 15 * 60
    static let maxFailuresPerUsername = 5
    static let maxFailuresPerAddress = 20

    let connection: DatabaseConnection

    /// Seconds until a new attempt is allowed, or nil when allowed now.
    func retryAfter(username: String, address: String, now: Date) throws -> Int? {
        let since = now.addingTimeInterval(-LoginThrottle.window).unixSeconds
        for (key, limit) in [("user:" + UserRepository.key(username), LoginThrottle.maxFailuresPerUsername),
                             ("addr:" + address, LoginThrottle.maxFailuresPerAddress)] {
            let row = try connection.queryOne(
                "SELECT COUNT(*) AS n, MIN(failed_at) AS oldest FROM login_failures WHERE throttle_key = ? AND failed_at > ?",
                [.text(key), .int(since)])
            if let row, row.int("n") >= limit {
                return max(1, row.int("oldest") + Int(LoginThrottle.window) - Int(now.unixSeconds))
            }
        }
        return nil
    }

    func recordFailure(username: String, address: String, now: Date) throws {
        for key in ["user:" + UserRepository.key(username), "addr:" + address] {
            try connection.execute("INSERT INTO login_failures (throttle_key, failed_at) VALUES (?, ?)", [.text(key), .int(now.unixSeconds)])
        }
        try connection.execute("DELETE FROM login_failures WHERE failed_at < ?", [.int(now.addingTimeInterval(-LoginThrottle.window).unixSeconds)])
    }

    func clear(username: String) throws {
        try connection.execute("DELETE FROM login_failures WHERE throttle_key = ?", [.text("user:" + UserRepository.key(username))])
    }
}
