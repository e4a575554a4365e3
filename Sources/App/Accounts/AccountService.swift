import Foundation
import Storage
import Web

enum AccountError: HTTPErrorConvertible, Equatable {
    case invalid([String: String])
    case usernameTaken
    case invalidCredentials
    case throttled(retryAfter: Int)

    var httpError: HTTPError {
        switch self {
        case .invalid(let fields):
            let message = fields.sorted { $0.key < $1.key }.map(\.value).joined(separator: " ")
            return HTTPError(400, code: "VALIDATION_ERROR", message: message)
        case .usernameTaken:
            return HTTPError(409, code: "USERNAME_TAKEN", message: "이미 사용 중인 아이디입니다.")
        case .invalidCredentials:
            return HTTPError(401, code: "INVALID_CREDENTIALS", message: "아이디 또는 비밀번호가 올바르지 않습니다.")
        case .throttled(let seconds):
            return HTTPError(429, code: "TOO_MANY_ATTEMPTS", message: "로그인 시도가 너무 많습니다. \(seconds)초 후에 다시 시도하세요.",
                             headers: ["Retry-After": String(seconds)])
        }
    }
}

/// Sign-up and sign-in rules shared by the API, the pages and `gudok user create`.
struct AccountService {
    let database: Database
    let hasher: PasswordHasher

    func signUp(username: String, email: String, password: String, isStaff: Bool = false) throws -> User {
        let errors = AccountRules.validate(username: username, email: email, password: password)
        guard errors.isEmpty else { throw AccountError.invalid(errors) }
        let hash = hasher.hash(password)
        return try database.withConnection { connection in
            let users = UserRepository(connection: connection)
            if try users.find(username: username) != nil { throw AccountError.usernameTaken }
            do {
                return try users.insert(username: username, email: email, passwordHash: hash, isStaff: isStaff, now: Date())
            } catch let error as DatabaseError where error.isUniqueViolation {
                throw AccountError.usernameTaken
            }
        }
    }

    /// Same answer and the same work for an unknown user and a wrong password.
    func signIn(username: String, password: String, address: String) throws -> User {
        let now = Date()
        try database.withConnection { connection in
            if let wait = try LoginThrottle(connection: connection).retryAfter(username: username, address: address, now: now) {
                throw AccountError.throttled(retryAfter: wait)
            }
        }
        let user = try database.withConnection { try UserRepository(connection: $0).find(username: username) }
        guard let user, user.isActive else {
            hasher.verifyDummy(password)
            try database.withConnection { try LoginThrottle(connection: $0).recordFailure(username: username, address: address, now: now) }
            throw AccountError.invalidCredentials
        }
        guard hasher.verify(password, against: user.passwordHash) else {
            try database.withConnection { try LoginThrottle(connection: $0).recordFailure(username: username, address: address, now: now) }
            throw AccountError.invalidCredentials
        }
        let newHash = hasher.needsRehash(user.passwordHash) ? hasher.hash(password) : nil
        try database.withConnection { connection in
            try UserRepository(connection: connection).recordLogin(userID: user.id, now: now, newHash: newHash)
            try LoginThrottle(connection: connection).clear(username: username)
        }
        return user
    }
}

extension Exchange {
    var accounts: AccountService { AccountService(database: app.database, hasher: app.passwordHasher) }
}
