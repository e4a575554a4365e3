import Crypto
import XCTest
@testable import Web

final class CryptoTests: XCTestCase {
    private func bytes(hex: String) -> [UInt8] {
        var out: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            out.append(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        return out
    }

    // RFC 4231 test cases 1, 2 and 6.
    func testHMACSHA256MatchesRFC4231() {
        XCTAssertEqual(Crypto.hex(Crypto.hmacSHA256(key: [UInt8](repeating: 0x0b, count: 20), message: Array("Hi There".utf8))),
                       "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")
        XCTAssertEqual(Crypto.hex(Crypto.hmacSHA256(key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8))),
                       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        XCTAssertEqual(Crypto.hex(Crypto.hmacSHA256(key: [UInt8](repeating: 0xaa, count: 131),
                                                    message: Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8))),
                       "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
    }

    func testHMACWithEmptyKeyAndMessageDoesNotCrash() {
        XCTAssertEqual(Crypto.hex(Crypto.hmacSHA256(key: [], message: [])),
                       "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad")
    }

    func testSHA256KnownVectors() {
        XCTAssertEqual(Crypto.hex(Crypto.sha256(Array("abc".utf8))), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(Crypto.hex(Crypto.sha256([])), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    // The PBKDF2-HMAC-SHA256 vectors everyone reuses (RFC 7914 §11 and the RFC 6070 inputs with SHA-256).
    func testPBKDF2SHA256KnownVectors() {
        XCTAssertEqual(Crypto.hex(Crypto.pbkdf2SHA256(password: Array("password".utf8), salt: Array("salt".utf8), iterations: 1)),
                       "120fb6cffcf8b32c43e7225256c4f837a86548c92ccc35480805987cb70be17b")
        XCTAssertEqual(Crypto.hex(Crypto.pbkdf2SHA256(password: Array("password".utf8), salt: Array("salt".utf8), iterations: 4096)),
                       "c5e478d59288c841aa530db6845c4c8d962893a001ce4e11a4963873aa98134a")
        XCTAssertEqual(Crypto.hex(Crypto.pbkdf2SHA256(password: Array("passwd".utf8), salt: Array("salt".utf8), iterations: 1, length: 64)),
                       "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783")
    }

    func testPBKDF2WithEmptyPasswordDoesNotCrash() {
        XCTAssertEqual(Crypto.pbkdf2SHA256(password: [], salt: Array("salt".utf8), iterations: 1).count, 32)
    }

    func testBase64URLRoundTripsEveryLength() {
        for length in 0...70 {
            let data = Crypto.randomBytes(length)
            let text = Crypto.base64URL(data)
            XCTAssertFalse(text.contains("+") || text.contains("/") || text.contains("="), "not URL-safe: \(text)")
            XCTAssertEqual(Crypto.base64URLDecode(text), data, "length \(length): \(text)")
        }
    }

    func testBase64URLUsesTheURLSafeAlphabet() {
        XCTAssertEqual(Crypto.base64URL([0xfb, 0xff, 0xbf]), "-_-_")
        XCTAssertEqual(Crypto.base64URLDecode("-_-_"), [0xfb, 0xff, 0xbf])
        XCTAssertEqual(Crypto.base64URL([0x61]), "YQ")
    }

    func testBase64URLDecodeRejectsGarbage() {
        XCTAssertNil(Crypto.base64URLDecode("***"))
        XCTAssertNil(Crypto.base64URLDecode("A"))
        XCTAssertNil(Crypto.base64URLDecode("한글"))
    }

    func testRandomTokensAreURLSafeAndDistinct() {
        let tokens = (0..<200).map { _ in Crypto.randomToken() }
        XCTAssertEqual(Set(tokens).count, 200)
        for token in tokens {
            XCTAssertEqual(token.count, 43, token)
            XCTAssertTrue(token.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }, token)
        }
    }

    func testConstantTimeEquals() {
        XCTAssertTrue(Crypto.constantTimeEquals([], []))
        XCTAssertTrue(Crypto.constantTimeEquals([1, 2, 3], [1, 2, 3]))
        XCTAssertFalse(Crypto.constantTimeEquals([1, 2, 3], [1, 2, 4]))
        XCTAssertFalse(Crypto.constantTimeEquals([1, 2, 3], [1, 2]))
        XCTAssertFalse(Crypto.constantTimeEquals([], [0]))
        XCTAssertFalse(Crypto.constantTimeEquals([0x80], [0x00]))
    }

    func testHexIsLowerCaseTwoDigitsPerByte() {
        XCTAssertEqual(Crypto.hex([0x00, 0x0f, 0xa0, 0xff]), "000fa0ff")
        XCTAssertEqual(bytes(hex: "000fa0ff"), [0x00, 0x0f, 0xa0, 0xff])
    }
}
