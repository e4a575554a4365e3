import Crypto
import Foundation
import Web

/// Django's `pbkdf2_sha256$<iterations>$<salt>$<base64 hash>` format, so a Django user table can be imported.
public struct PasswordHasher: Sendable {
    public static let defaultIterations = 600_000
    public let iterations: Int

    public init(iterations: Int = PasswordHasher.defaultIterations) { self.iterations = iterations }

    public func hash(_ password: String, salt: String = PasswordHasher.makeSalt()) -> String {
        let derived = Crypto.pbkdf2SHA256(password: Array(password.utf8), salt: Array(salt.utf8), iterations: iterations)
        return "pbkdf2_sha256$\(iterations)$\(salt)$\(Data(derived).base64EncodedString())"
    }

    public func verify(_ password: String, against encoded: String) -> Bool {
        let parts = encoded.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "pbkdf2_sha256", let rounds = Int(parts[1]), rounds > 0, rounds <= 10_000_000,
              let expected = Data(base64Encoded: String(parts[3])) else { return false }
        let derived = Crypto.pbkdf2SHA256(password: Array(password.utf8), salt: Array(parts[2].utf8), iterations: rounds,
                                          length: expected.count)
        return Crypto.constantTimeEquals(derived, Array(expected))
    }

    public func needsRehash(_ encoded: String) -> Bool {
        let parts = encoded.split(separator: "$")
        return parts.count != 4 || parts[0] != "pbkdf2_sha256" || (Int(parts[1]) ?? 0) < iterations
    }

    /// Spends the same time as a real check, so an unknown username answers as slowly as a wrong password.
    public func verifyDummy(_ password: String) {
        _ = Crypto.pbkdf2SHA256(password: Array(password.utf8), salt: Array("gudokdummysalt".utf8), iterations: iterations)
    }

    public static func makeSalt() -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        return String(Crypto.randomBytes(22).map { alphabet[Int($0) % alphabet.count] })
    }
}
