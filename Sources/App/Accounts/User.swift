import Foundation
import Storage
import Web

public struct User: Sendable, Equatable {
    public var id: String
    public var username: String
    public var email: String
    public var passwordHash: String
    public var isStaff: Bool
    public var isActive: Bool

    init(row: Row) {
        id = row.string("id")
        username = row.string("username")
        email = row.string("email")
        passwordHash = row.string("password_hash")
        isStaff = row.bool("is_staff")
        isActive = row.bool("is_active")
    }

    public var json: JSON {
        ["id": .string(id), "username": .string(username), "email": .string(email), "is_staff": .bool(isStaff)]
    }
}

struct UserRepository {
    let connection: DatabaseConnection

    /// Serializes one user's writes within a transaction (PostgreSQL row lock; SQLite transactions already exclude writers).
    func lock(id: String) throws {
        guard connection.dialect == .postgres else { return }
        try connection.execute("SELECT id FROM users WHERE id = ? FOR UPDATE", [.text(id)])
    }

    /// Usernames are unique regardless of case: `Alice` and `alice` are one account.
    static func key(_ username: String) -> String { username.lowercased() }

    func find(id: String) throws -> User? {
        try connection.queryOne("SELECT * FROM users WHERE id = ?", [.text(id)]).map(User.init(row:))
    }

    func find(username: String) throws -> User? {
        try connection.queryOne("SELECT * FROM users WHERE username_key = ?", [.text(UserRepository.key(username))]).map(User.init(row:))
    }

    func insert(username: String, email: String, passwordHash: String, isStaff: Bool, now: Date) throws -> User {
        let id = Identifier.make()
        try connection.execute(
            "INSERT INTO users (id, username, username_key, email, password_hash, is_staff, is_active, created_at) VALUES (?, ?, ?, ?, ?, ?, 1, ?)",
            [.text(id), .text(username), .text(UserRepository.key(username)), .text(email), .text(passwordHash), .bool(isStaff),
             .int(now.unixSeconds)])
        guard let user = try find(id: id) else { throw DatabaseError(kind: .other, message: "user \(id) not readable after its insert") }
        return user
    }

    func recordLogin(userID: String, now: Date, newHash: String?) throws {
        if let newHash {
            try connection.execute("UPDATE users SET last_login = ?, password_hash = ? WHERE id = ?", [.int(now.unixSeconds), .text(newHash), .text(userID)])
        } else {
            try connection.execute("UPDATE users SET last_login = ? WHERE id = ?", [.int(now.unixSeconds), .text(userID)])
        }
    }
}

/// Sign-up rules (docs/api.md#accounts-api).
enum AccountRules {
    static let usernameCharacters = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@.+_-")

    static func validate(username: String, email: String, password: String) -> [String: String] {
        var errors: [String: String] = [:]
        if username.count < 3 || username.count > 150 || !username.allSatisfy({ usernameCharacters.contains($0) }) {
            errors["username"] = "아이디는 3~150자의 영문, 숫자, @ . + - _ 만 사용할 수 있습니다."
        }
        if !email.isEmpty && !isPlausibleEmail(email) { errors["email"] = "올바른 이메일 주소를 입력하세요." }
        if password.count < 8 { errors["password"] = "비밀번호는 8자 이상이어야 합니다." }
        else if password.count > 4096 { errors["password"] = "비밀번호가 너무 깁니다." }
        return errors
    }

    static func isPlausibleEmail(_ email: String) -> Bool {
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        return email.count <= 254 && parts.count == 2 && !parts[0].isEmpty && parts[1].contains(".") && !parts[1].hasPrefix(".")
            && !parts[1].hasSuffix(".") && !email.contains(where: { $0.isWhitespace })
    }
}
