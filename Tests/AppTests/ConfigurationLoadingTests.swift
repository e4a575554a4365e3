import Foundation
import XCTest

@testable import App

final class ConfigurationLoadingTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("gudok-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(at: directory) }

    private func load(_ environment: [String: String], dotEnv: String? = nil) throws -> Configuration {
        let dotEnvPath = directory.appendingPathComponent(".env").path
        if let dotEnv { try dotEnv.write(toFile: dotEnvPath, atomically: true, encoding: .utf8) }
        return try Configuration.load(environment: environment, dotEnvPath: dotEnvPath, secretFile: directory.appendingPathComponent("var/secret").path)
    }

    private func assertRefused(_ environment: [String: String], naming variable: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try load(environment), file: file, line: line) { error in
            let configurationError = error as? ConfigurationError
            XCTAssertEqual(configurationError?.variable, variable, "\(error)", file: file, line: line)
            for value in environment.values where value.count >= 8 {
                XCTAssertFalse("\(error)".contains(value) && value.contains("secret"), "a secret leaked: \(error)", file: file, line: line)
            }
        }
    }

    func testMalformedTimeoutScaleAndTestClockStopTheProgram() {
        for bad in ["fast", "0", "-1", "inf", "nan"] {
            assertRefused(["GUDOK_TOSS_TIMEOUT_SCALE": bad], naming: "GUDOK_TOSS_TIMEOUT_SCALE")
        }
        for bad in ["yes", "true", "2", " 1"] {
            assertRefused(["GUDOK_TEST_CLOCK": bad], naming: "GUDOK_TEST_CLOCK")
        }
    }

    func testSellerIdentityIsCheckedAndFormatted() throws {
        let configuration = try load(["GUDOK_SELLER_NAME": "주식회사 구독", "GUDOK_SELLER_BUSINESS_NUMBER": "1234567890"])
        XCTAssertEqual(configuration.sellerName, "주식회사 구독")
        XCTAssertEqual(configuration.sellerBusinessNumber, "123-45-67890")
        for bad in ["123-45-6789", "12345678901", "abc-de-fghij"] {
            assertRefused(["GUDOK_SELLER_BUSINESS_NUMBER": bad], naming: "GUDOK_SELLER_BUSINESS_NUMBER")
        }
    }

    func testDefaults() throws {
        let configuration = try load([:])
        XCTAssertEqual(configuration.databaseURL, "sqlite:var/gudok.sqlite3")
        XCTAssertEqual(configuration.tossBaseURL, "https://api.tosspayments.com/v1")
        XCTAssertEqual(configuration.timeZone.identifier, "Asia/Seoul")
        XCTAssertFalse(configuration.isProduction)
        XCTAssertFalse(configuration.testClockEnabled)
        XCTAssertEqual(configuration.logLevel, .info)
    }

    func testDevelopmentSecretIsGeneratedOnceAndReused() throws {
        let first = try load([:])
        let second = try load([:])
        XCTAssertGreaterThanOrEqual(first.secretKey.utf8.count, 32)
        XCTAssertEqual(first.secretKey, second.secretKey)
        let attributes = try FileManager.default.attributesOfItem(atPath: directory.appendingPathComponent("var/secret").path)
        XCTAssertEqual((attributes[.posixPermissions] as? NSNumber)?.intValue, 0o600)
    }

    func testEnvironmentWinsOverDotEnv() throws {
        let configuration = try load(["GUDOK_TIMEZONE": "UTC"], dotEnv: """
            # comment
            export GUDOK_TIMEZONE=Asia/Tokyo
            DATABASE_URL="sqlite:///srv/from-dotenv.sqlite3"
            GUDOK_SECRET_KEY='dotenv-secret-key-0123456789abcdefghijk'
            """)
        XCTAssertEqual(configuration.timeZone.secondsFromGMT(), 0, "the environment's UTC, not the .env's Tokyo: \(configuration.timeZone)")
        XCTAssertEqual(configuration.databaseURL, "sqlite:///srv/from-dotenv.sqlite3")
        XCTAssertEqual(configuration.secretKey, "dotenv-secret-key-0123456789abcdefghijk")
    }

    func testShortSecretIsRefused() {
        assertRefused(["GUDOK_SECRET_KEY": "too-short-secret"], naming: "GUDOK_SECRET_KEY")
    }

    func testProductionNeedsASecretAndRealTossKeys() {
        assertRefused(["GUDOK_ENV": "production"], naming: "GUDOK_SECRET_KEY")
        let secret = "production-secret-key-0123456789abcdefghij"
        assertRefused(["GUDOK_ENV": "production", "GUDOK_SECRET_KEY": secret], naming: "TOSS_SECRET_KEY")
        assertRefused(["GUDOK_ENV": "production", "GUDOK_SECRET_KEY": secret, "TOSS_SECRET_KEY": Configuration.sandboxSecretKey,
                       "TOSS_CLIENT_KEY": "live_ck_x"], naming: "TOSS_SECRET_KEY")
        XCTAssertNoThrow(try load(["GUDOK_ENV": "production", "GUDOK_SECRET_KEY": secret, "TOSS_SECRET_KEY": "live_sk_x", "TOSS_CLIENT_KEY": "live_ck_x"]))
    }

    func testProductionDisablesTheTestClock() throws {
        let configuration = try load(["GUDOK_ENV": "production", "GUDOK_SECRET_KEY": "production-secret-key-0123456789abcdefghij",
                                      "TOSS_SECRET_KEY": "live_sk_x", "TOSS_CLIENT_KEY": "live_ck_x", "GUDOK_TEST_CLOCK": "1"])
        XCTAssertFalse(configuration.testClockEnabled)
        XCTAssertTrue(try load(["GUDOK_TEST_CLOCK": "1"]).testClockEnabled)
    }

    func testMalformedValuesNameTheirVariable() {
        assertRefused(["GUDOK_ENV": "staging"], naming: "GUDOK_ENV")
        assertRefused(["DATABASE_URL": "mysql://root@localhost/gudok"], naming: "DATABASE_URL")
        assertRefused(["GUDOK_TIMEZONE": "Mars/Olympus_Mons"], naming: "GUDOK_TIMEZONE")
        assertRefused(["TOSS_BASE_URL": "ftp://toss"], naming: "TOSS_BASE_URL")
        assertRefused(["GUDOK_PUBLIC_URL": "billing.example.com"], naming: "GUDOK_PUBLIC_URL")
        assertRefused(["GUDOK_LOG_LEVEL": "loud"], naming: "GUDOK_LOG_LEVEL")
    }

    func testPublicURLLosesItsTrailingSlash() throws {
        XCTAssertEqual(try load(["GUDOK_PUBLIC_URL": "https://billing.example.com/"]).publicURL, "https://billing.example.com")
    }
}
