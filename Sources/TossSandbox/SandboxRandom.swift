// Unguessable identifiers from OpenSSL's CSPRNG.

import Crypto
import Foundation

enum SandboxRandom {
    static func bytes(_ count: Int) -> [UInt8] {
        Crypto.randomBytes(count)
    }

    private static let alphabet62: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".utf8)
    private static let hexUpper: [UInt8] = Array("0123456789ABCDEF".utf8)

    /// `count` characters of [A-Za-z0-9] (≈5.95 bits each).
    static func alphanumeric(_ count: Int) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(count)
        while out.count < count {
            for b in bytes(count * 2) where b < 248 { // 248 = 62 * 4, no modulo bias
                out.append(alphabet62[Int(b % 62)])
                if out.count == count { break }
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func hex(_ byteCount: Int) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(byteCount * 2)
        for b in bytes(byteCount) {
            out.append(hexUpper[Int(b >> 4)]); out.append(hexUpper[Int(b & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func lowerHex(_ byteCount: Int) -> String { hex(byteCount).lowercased() }

    static func digits(_ count: Int) -> String {
        var out = ""
        for b in bytes(count * 2) where b < 250 {
            out.append(Character(Unicode.Scalar(48 + b % 10)))
            if out.count == count { break }
        }
        while out.count < count { out.append("0") }
        return out
    }

    /// Standard base64 of 32 random bytes: 44 characters, may contain `+`, `/`
    /// and always ends with `=`, like Toss billing keys (which callers must
    /// therefore percent-encode when they put them in a URL path).
    static func billingKey() -> String {
        Data(bytes(32)).base64EncodedString()
    }
}
