import CCrypto

/// AES-256-GCM from libcrypto: a 32-byte key, a 12-byte nonce, associated data bound to the ciphertext, a 16-byte tag.
public enum AESGCM {
    public struct Sealed: Sendable, Equatable {
        public let ciphertext: [UInt8]
        public let tag: [UInt8]

        public init(ciphertext: [UInt8], tag: [UInt8]) {
            self.ciphertext = ciphertext
            self.tag = tag
        }
    }

    public static func seal(_ plaintext: [UInt8], key: [UInt8], nonce: [UInt8], associatedData: [UInt8]) -> Sealed {
        precondition(key.count == 32 && nonce.count == 12, "AES-256-GCM takes a 32-byte key and a 12-byte nonce")
        let context = EVP_CIPHER_CTX_new()
        defer { EVP_CIPHER_CTX_free(context) }
        var ciphertext = [UInt8](repeating: 0, count: plaintext.count + 16)
        var tag = [UInt8](repeating: 0, count: 16)
        var length: Int32 = 0
        // Only a broken libcrypto fails these with valid sizes; carrying on would store an unreadable key.
        check(EVP_EncryptInit_ex(context, EVP_aes_256_gcm(), nil, key, nonce), "EVP_EncryptInit_ex")
        check(EVP_EncryptUpdate(context, nil, &length, associatedData, Int32(associatedData.count)), "EVP_EncryptUpdate(aad)")
        check(EVP_EncryptUpdate(context, &ciphertext, &length, plaintext, Int32(plaintext.count)), "EVP_EncryptUpdate")
        let written = Int(length)
        ciphertext.withUnsafeMutableBufferPointer { buffer in
            check(EVP_EncryptFinal_ex(context, buffer.baseAddress.map { $0 + written }, &length), "EVP_EncryptFinal_ex")
        }
        check(EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_GET_TAG, 16, &tag), "EVP_CIPHER_CTX_ctrl(GET_TAG)")
        return Sealed(ciphertext: Array(ciphertext.prefix(written + Int(length))), tag: tag)
    }

    /// The plaintext, or nil if the key, nonce, associated data or tag do not match (or the data was altered).
    public static func open(_ sealed: Sealed, key: [UInt8], nonce: [UInt8], associatedData: [UInt8]) -> [UInt8]? {
        guard key.count == 32, nonce.count == 12, sealed.tag.count == 16 else { return nil }
        let context = EVP_CIPHER_CTX_new()
        defer { EVP_CIPHER_CTX_free(context) }
        var plaintext = [UInt8](repeating: 0, count: sealed.ciphertext.count + 16)
        var tag = sealed.tag
        var length: Int32 = 0
        guard EVP_DecryptInit_ex(context, EVP_aes_256_gcm(), nil, key, nonce) == 1,
              EVP_DecryptUpdate(context, nil, &length, associatedData, Int32(associatedData.count)) == 1,
              EVP_DecryptUpdate(context, &plaintext, &length, sealed.ciphertext, Int32(sealed.ciphertext.count)) == 1,
              EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_SET_TAG, 16, &tag) == 1 else { return nil }
        let written = Int(length)
        let verified = plaintext.withUnsafeMutableBufferPointer { buffer in
            EVP_DecryptFinal_ex(context, buffer.baseAddress.map { $0 + written }, &length) == 1
        }
        return verified ? Array(plaintext.prefix(written + Int(length))) : nil
    }

    private static func check(_ result: Int32, _ call: String) {
        guard result == 1 else { fatalError("\(call) failed in libcrypto") }
    }
}
