import CCrypto
import Foundation
import Web

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
        let plaintext = Array(billingKey.utf8)
        let aad = Array(subscriptionID.utf8)
        var ciphertext = [UInt8](repeating: 0, count: plaintext.count + 16)
        var tag = [UInt8](repeating: 0, count: 16)
        let context = EVP_CIPHER_CTX_new()
        defer { EVP_CIPHER_CTX_free(context) }
        var length: Int32 = 0
        var total: Int32 = 0
        precondition(EVP_EncryptInit_ex(context, EVP_aes_256_gcm(), nil, key, nonce) == 1)
        precondition(EVP_EncryptUpdate(context, nil, &length, aad, Int32(aad.count)) == 1)
        precondition(EVP_EncryptUpdate(context, &ciphertext, &length, plaintext, Int32(plaintext.count)) == 1)
        total = length
        ciphertext.withUnsafeMutableBufferPointer { buffer in
            precondition(EVP_EncryptFinal_ex(context, buffer.baseAddress! + Int(total), &length) == 1)
        }
        total += length
        precondition(EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_GET_TAG, 16, &tag) == 1)
        return "v1." + Crypto.base64URL(nonce + Array(ciphertext.prefix(Int(total))) + tag)
    }

    public func open(_ sealed: String, subscriptionID: String) -> String? {
        guard sealed.hasPrefix("v1."), let bytes = Crypto.base64URLDecode(String(sealed.dropFirst(3))), bytes.count > 28 else { return nil }
        let nonce = Array(bytes.prefix(12))
        var tag = Array(bytes.suffix(16))
        let ciphertext = Array(bytes.dropFirst(12).dropLast(16))
        let aad = Array(subscriptionID.utf8)
        var plaintext = [UInt8](repeating: 0, count: ciphertext.count + 16)
        let context = EVP_CIPHER_CTX_new()
        defer { EVP_CIPHER_CTX_free(context) }
        var length: Int32 = 0
        guard EVP_DecryptInit_ex(context, EVP_aes_256_gcm(), nil, key, nonce) == 1,
              EVP_DecryptUpdate(context, nil, &length, aad, Int32(aad.count)) == 1,
              EVP_DecryptUpdate(context, &plaintext, &length, ciphertext, Int32(ciphertext.count)) == 1,
              EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_SET_TAG, 16, &tag) == 1 else { return nil }
        let total = length
        let finalOK = plaintext.withUnsafeMutableBufferPointer { buffer in
            EVP_DecryptFinal_ex(context, buffer.baseAddress! + Int(total), &length) == 1
        }
        guard finalOK else { return nil }
        return String(validating: plaintext.prefix(Int(total + length)), as: UTF8.self)
    }
}
