import Crypto
import Foundation

/// Seals billing keys at rest with AES-256-GCM; the key is derived from GUDOK_SECRET_KEY and the subscription id is
/// bound as associated data, so a sealed key copied to another row does not open.
public struct BillingKeyVault: Sendable {
    private let key: [UInt8]
    private let digestKey: [UInt8]

    public init(secretKey: String) {
        key = Crypto.hmacSHA256(key: Array(secretKey.utf8), message: Array("gudok billing-key vault v1".utf8))
        digestKey = Crypto.hmacSHA256(key: Array(secretKey.utf8), message: Array("gudok billing-key digest v1".utf8))
    }

    /// A keyed digest to find the subscription holding a billing key (for BILLING_DELETED) without storing the key in clear.
    public func digest(_ billingKey: String) -> String { Crypto.hex(Crypto.hmacSHA256(key: digestKey, message: Array(billingKey.utf8))) }

    public func seal(_ billingKey: String, subscriptionID: String) -> String {
        let nonce = Crypto.randomBytes(12)
        let sealed = AESGCM.seal(Array(billingKey.utf8), key: key, nonce: nonce, associatedData: Array(subscriptionID.utf8))
        return "v1." + Crypto.base64URL(nonce + sealed.ciphertext + sealed.tag)
    }

    public func open(_ sealed: String, subscriptionID: String) -> String? {
        guard sealed.hasPrefix("v1."), let bytes = Crypto.base64URLDecode(String(sealed.dropFirst(3))), bytes.count > 28 else { return nil }
        let parts = AESGCM.Sealed(ciphertext: Array(bytes.dropFirst(12).dropLast(16)), tag: Array(bytes.suffix(16)))
        guard let plaintext = AESGCM.open(parts, key: key, nonce: Array(bytes.prefix(12)), associatedData: Array(subscriptionID.utf8)) else { return nil }
        return String(validating: plaintext, as: UTF8.self)
    }
}
