import Crypto
import Foundation
import Web
import XCTest

@testable import App

final class BillingKeyVaultTests: XCTestCase {
    let vault = BillingKeyVault(secretKey: "vault-tests-secret-key-0123456789abcdefghij")
    let billingKey = "Z_t5vOvQxrj4499PeiJcjen28-V2RyqgYTwN44Rdzk0="
    let subscriptionID = "0b5c7e1a-1111-4222-8333-944455556666"

    private func payload(_ sealed: String) -> [UInt8] { Crypto.base64URLDecode(String(sealed.dropFirst(3))) ?? [] }
    private func reseal(_ bytes: [UInt8]) -> String { "v1." + Crypto.base64URL(bytes) }

    func testSealThenOpenRoundTrips() {
        let sealed = vault.seal(billingKey, subscriptionID: subscriptionID)
        XCTAssertTrue(sealed.hasPrefix("v1."), sealed)
        XCTAssertEqual(vault.open(sealed, subscriptionID: subscriptionID), billingKey)
    }

    func testRoundTripsShortLongAndNonASCIIKeys() {
        for key in ["k", String(repeating: "x", count: 5000), "빌링키-🔑"] {
            XCTAssertEqual(vault.open(vault.seal(key, subscriptionID: subscriptionID), subscriptionID: subscriptionID), key, "key of \(key.count) characters")
        }
    }

    func testSealedTextNeverContainsTheKey() {
        let sealed = vault.seal(billingKey, subscriptionID: subscriptionID)
        XCTAssertFalse(sealed.contains(billingKey), sealed)
        XCTAssertFalse(sealed.contains(String(billingKey.prefix(12))), sealed)
        XCTAssertFalse(sealed.contains(Crypto.base64URL(Array(billingKey.utf8))), sealed)
        XCTAssertFalse(sealed.contains(Data(billingKey.utf8).base64EncodedString().dropLast(2)), sealed)
        XCTAssertEqual(payload(sealed).count, 12 + billingKey.utf8.count + 16, "nonce + ciphertext + tag")
    }

    func testEachSealUsesAFreshNonce() {
        let first = vault.seal(billingKey, subscriptionID: subscriptionID)
        let second = vault.seal(billingKey, subscriptionID: subscriptionID)
        XCTAssertNotEqual(first, second)
        XCTAssertNotEqual(Array(payload(first).prefix(12)), Array(payload(second).prefix(12)))
    }

    func testWrongSubscriptionIDDoesNotOpen() {
        let sealed = vault.seal(billingKey, subscriptionID: subscriptionID)
        XCTAssertNil(vault.open(sealed, subscriptionID: "0b5c7e1a-1111-4222-8333-944455556667"))
        XCTAssertNil(vault.open(sealed, subscriptionID: ""))
        XCTAssertNil(vault.open(sealed, subscriptionID: subscriptionID.uppercased()))
    }

    func testAnotherSecretDoesNotOpen() {
        let sealed = vault.seal(billingKey, subscriptionID: subscriptionID)
        XCTAssertNil(BillingKeyVault(secretKey: "another-secret-key-0123456789abcdefghijklmn").open(sealed, subscriptionID: subscriptionID))
    }

    func testAnyTamperedByteDoesNotOpen() {
        let sealed = vault.seal(billingKey, subscriptionID: subscriptionID)
        let bytes = payload(sealed)
        for index in 0..<bytes.count {
            var tampered = bytes
            tampered[index] ^= 0x01
            XCTAssertNil(vault.open(reseal(tampered), subscriptionID: subscriptionID), "byte \(index) flipped still opened")
        }
    }

    func testTruncatedOrExtendedOrMalformedTextDoesNotOpen() {
        let sealed = vault.seal(billingKey, subscriptionID: subscriptionID)
        let bytes = payload(sealed)
        XCTAssertNil(vault.open(reseal(Array(bytes.dropLast())), subscriptionID: subscriptionID))
        XCTAssertNil(vault.open(reseal(bytes + [0]), subscriptionID: subscriptionID))
        XCTAssertNil(vault.open(reseal(Array(bytes.prefix(28))), subscriptionID: subscriptionID))
        for text in ["", "v1.", "v2." + String(sealed.dropFirst(3)), String(sealed.dropFirst(3)), "v1.***", "v1.AAAA", billingKey] {
            XCTAssertNil(vault.open(text, subscriptionID: subscriptionID), "opened \(text.debugDescription)")
        }
    }

    func testDigestIsStableKeyedAndHidesTheKey() {
        let digest = vault.digest(billingKey)
        XCTAssertEqual(digest, vault.digest(billingKey))
        XCTAssertEqual(digest.count, 64)
        XCTAssertNotEqual(digest, vault.digest(billingKey + "x"))
        XCTAssertNotEqual(digest, BillingKeyVault(secretKey: "another-secret-key-0123456789abcdefghijklmn").digest(billingKey))
        XCTAssertNotEqual(digest, Crypto.hex(Crypto.sha256(Array(billingKey.utf8))), "an unkeyed hash would let anyone test guesses")
    }
}
