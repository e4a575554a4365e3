import Foundation

public struct UserCreationError: Error {
    public let message: String
}

extension Application {
    /// `gudok user create`: the same rules as sign-up.
    public func createUser(username: String, email: String, password: String, isStaff: Bool) throws -> User {
        do {
            return try AccountService(database: database, hasher: passwordHasher).signUp(username: username, email: email, password: password,
                                                                                        isStaff: isStaff)
        } catch let error as AccountError {
            throw UserCreationError(message: error.httpError.message)
        }
    }
}
